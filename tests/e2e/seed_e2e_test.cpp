// The seed scenario (seeds/000_*.txt) end to end: the real docker CLI against imaged, with a
// local registry holding library/busybox:musl used as the Docker Hub mirror. Pull, tag, prove
// both tags are one image stored once, inspect, history, list formats and filters, disk usage,
// tag by ID, remove a tag, remove the last tag (blobs freed), errors, prune. Outputs are checked,
// not only exit codes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/daemon/daemon_fixture.h"
#include "tests/support/registry.h"
#include "tests/support/text.h"

using namespace imaged::testing;
using nlohmann::json;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Whitespace-separated columns of a CLI table row.
std::vector<std::string> columns(const std::string& row) {
  std::vector<std::string> out;
  std::istringstream in(row);
  for (std::string c; in >> c;) out.push_back(c);
  return out;
}

struct Seed {
  TestRegistry registry;
  json image;
  std::unique_ptr<Daemon> daemon;
  std::string id, short_id, digest, layer;
  std::string chain;  // the single layer's chain ID (= its diff_id): rmi reports it

  Seed() {
    image = json::parse(push_fixture(registry, "seed"))["images"][0];
    id = image["image_id"];
    short_id = id.substr(7, 12);
    digest = image["manifest_digest"];
    layer = image["layers"][0]["digest"];
    chain = image["diff_ids"][0];
    daemon = std::make_unique<Daemon>(mirrored(registry.host()));
  }
  RunResult docker(const std::vector<std::string>& args) { return daemon->docker(args); }
  // A shell pipeline with `docker` pointing at imaged.
  RunResult shell(const std::string& script) { return daemon->shell(script); }
  bool blob_exists(const std::string& digest) {
    return std::filesystem::exists(daemon->data_root() / "blobs" / "sha256" / digest.substr(7));
  }
};

}  // namespace

TEST_CASE("e2e seed: pull busybox:musl, tag busybox:media, one image stored once",
          "[images][e2e][seed]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  Seed s;

  // 1. Pull.
  auto pull = s.docker({"pull", "busybox:musl"});
  INFO(pull.out << pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(contains(pull.out, "Status: Downloaded newer image for busybox:musl\n"));
  CHECK(contains(pull.out, "Digest: " + s.digest + "\n"));
  CHECK(pull.out.ends_with("docker.io/library/busybox:musl\n"));

  auto before = split_lines(s.docker({"images", "busybox"}).out);
  REQUIRE(before.size() == 2);
  CHECK(columns(before[0]) ==
        std::vector<std::string>{"REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"});
  CHECK(columns(before[1])[0] == "busybox");
  CHECK(columns(before[1])[1] == "musl");
  CHECK(columns(before[1])[2] == s.short_id);

  // 2. Tag: no output.
  auto tag = s.docker({"tag", "busybox:musl", "busybox:media"});
  CHECK(tag.exit_code == 0);
  CHECK(tag.out.empty());
  CHECK(tag.err.empty());

  // 3. Both tags, same IMAGE ID and SIZE.
  auto rows = split_lines(s.docker({"images", "busybox"}).out);
  REQUIRE(rows.size() == 3);
  auto media = columns(rows[1]);
  auto musl = columns(rows[2]);
  CHECK(media[1] == "media");
  CHECK(musl[1] == "musl");
  CHECK(media[2] == s.short_id);
  CHECK(musl[2] == s.short_id);
  CHECK(media.back() == musl.back());
  CHECK(media.back() == "1.98MB");
  CHECK(s.shell("docker images busybox -q | sort -u | wc -l").out == "1\n");
  CHECK(s.shell("docker images busybox | tail -n +2 | wc -l").out == "2\n");
  CHECK(s.shell("docker images busybox:musl -q").out == s.short_id + "\n");
  CHECK(s.shell("docker images busybox:media -q").out == s.short_id + "\n");

  // 4. Inspect: both tags are the same image.
  auto inspect_musl = s.docker({"image", "inspect", "busybox:musl"});
  auto inspect_media = s.docker({"image", "inspect", "busybox:media"});
  REQUIRE(inspect_musl.exit_code == 0);
  auto jm = json::parse(inspect_musl.out);
  auto jd = json::parse(inspect_media.out);
  CHECK(jm[0]["Id"] == s.id);
  CHECK(jd[0]["Id"] == s.id);
  CHECK(jm == jd);
  CHECK(jm[0]["RepoTags"] == json{"busybox:media", "busybox:musl"});
  CHECK(jm[0]["RepoDigests"] == json{"busybox@" + s.digest});
  CHECK(jm[0]["Architecture"] == "amd64");
  CHECK(jm[0]["Os"] == "linux");
  CHECK(jm[0]["RootFS"]["Layers"] == s.image["diff_ids"]);
  CHECK(s.docker({"inspect", "--format", "{{.Id}}", "busybox:musl"}).out == s.id + "\n");
  CHECK(s.docker({"inspect", "--format", "{{.Id}}", "busybox:media"}).out == s.id + "\n");
  CHECK(s.shell("docker inspect busybox:media | grep '\"Id\"'").out ==
        "        \"Id\": \"" + s.id + "\",\n");

  // 5. History: the CMD row with the image ID, the ADD row <missing> with the layer's size.
  auto history = split_lines(s.docker({"history", "busybox:musl"}).out);
  REQUIRE(history.size() == 3);
  CHECK(columns(history[0])[0] == "IMAGE");
  CHECK(columns(history[1])[0] == s.short_id);
  CHECK(contains(history[1], "CMD [\"sh\"]"));
  CHECK(columns(history[1]).back() == "0B");
  CHECK(columns(history[2])[0] == "<missing>");
  CHECK(contains(history[2], "ADD file:"));
  CHECK(columns(history[2]).back() == "1.98MB");

  // 6. Digests, reference filter, format table.
  auto digests = split_lines(s.docker({"images", "--digests", "busybox"}).out);
  REQUIRE(digests.size() == 3);
  CHECK(columns(digests[1])[2] == s.digest);
  CHECK(columns(digests[2])[2] == s.digest);
  auto filtered = split_lines(s.docker({"images", "--filter", "reference=busybox:mu*"}).out);
  REQUIRE(filtered.size() == 2);
  CHECK(columns(filtered[1])[1] == "musl");
  auto table =
      s.docker({"images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}"});
  CHECK(table.out ==
        "REPOSITORY   TAG       IMAGE ID       SIZE\n"
        "busybox      media     " +
            s.short_id +
            "   1.98MB\n"
            "busybox      musl      " +
            s.short_id + "   1.98MB\n");
  CHECK(s.docker({"images", "busybox", "--format", "{{.Repository}}:{{.Tag}} -> {{.ID}}"}).out ==
        "busybox:media -> " + s.short_id + "\nbusybox:musl -> " + s.short_id + "\n");

  // 7. Disk usage counts the image once.
  auto df = split_lines(s.docker({"system", "df"}).out);
  REQUIRE(df.size() >= 2);
  auto images_row = columns(df[1]);
  CHECK(images_row[0] == "Images");
  CHECK(images_row[1] == "1");  // TOTAL
  CHECK(images_row[2] == "0");  // ACTIVE
  CHECK(images_row[3] == "1.982MB");
  auto dfv = s.docker({"system", "df", "-v"});
  CHECK(s.shell("docker system df -v | grep -c " + s.short_id).out == "1\n");
  CHECK(contains(dfv.out, "Images space usage:"));

  // 8. Tag by short and full ID.
  CHECK(s.docker({"tag", s.short_id, "busybox:short"}).exit_code == 0);
  CHECK(s.docker({"tag", s.id, "busybox:full"}).exit_code == 0);
  CHECK(s.shell("docker images busybox -q | sort -u | wc -l").out == "1\n");
  CHECK(s.shell("docker images busybox | tail -n +2 | wc -l").out == "4\n");

  // 9. Removing a tag keeps the image.
  auto rmi_media = s.docker({"rmi", "busybox:media"});
  CHECK(rmi_media.exit_code == 0);
  CHECK(rmi_media.out == "Untagged: busybox:media\n");
  CHECK(s.docker({"inspect", "--format", "{{.Id}}", "busybox:musl"}).out == s.id + "\n");
  CHECK(s.docker({"rmi", "busybox:short", "busybox:full"}).out ==
        "Untagged: busybox:short\nUntagged: busybox:full\n");

  // 10. Errors with dockerd's messages.
  auto missing = s.docker({"rmi", "nosuch"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "Error response from daemon: No such image: nosuch:latest\n");
  auto invalid = s.docker({"rmi", "busybox:Bad Tag!"});
  CHECK(invalid.exit_code == 1);
  CHECK(contains(invalid.err, "invalid reference format"));
  // One repository with one tag: rmi by ID is allowed and removes everything (dockerd).
  auto by_id = s.docker({"rmi", s.short_id});
  INFO(by_id.out << by_id.err);
  CHECK(by_id.exit_code == 0);
  CHECK(by_id.out == "Untagged: busybox:musl\nUntagged: busybox@" + s.digest +
                         "\nDeleted: " + s.id + "\nDeleted: " + s.chain + "\n");

  // 11. The last tag: Untagged lines, Deleted lines, blobs gone. Pull again first; a second tag
  //     in another repository makes rmi by ID a conflict.
  REQUIRE(s.docker({"pull", "busybox:musl"}).exit_code == 0);
  REQUIRE(s.docker({"tag", "busybox:musl", "127.0.0.1:5000/test/busybox:media"}).exit_code == 0);
  auto conflict = s.docker({"rmi", s.short_id});
  CHECK(conflict.exit_code == 1);
  CHECK(conflict.err == "Error response from daemon: conflict: unable to delete " + s.short_id +
                            " (must be forced) - image is referenced in multiple repositories\n");
  CHECK(s.docker({"rmi", "127.0.0.1:5000/test/busybox:media"}).out ==
        "Untagged: 127.0.0.1:5000/test/busybox:media\n");
  REQUIRE(s.blob_exists(s.layer));
  auto last = s.docker({"rmi", "busybox:musl"});
  INFO(last.out << last.err);
  CHECK(last.exit_code == 0);
  CHECK(last.out == "Untagged: busybox:musl\nUntagged: busybox@" + s.digest + "\nDeleted: " + s.id +
                        "\nDeleted: " + s.chain + "\n");
  CHECK_FALSE(s.blob_exists(s.id));
  CHECK_FALSE(s.blob_exists(s.layer));
  CHECK_FALSE(s.blob_exists(s.digest));
  CHECK(s.docker({"images", "-q"}).out.empty());

  // 12. Prune: nothing, then a digest-only image (dangling for dockerd: no tag).
  auto nothing = s.docker({"image", "prune", "-f"});
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.out == "Total reclaimed space: 0B\n");
  REQUIRE(s.docker({"pull", "busybox@" + s.digest}).exit_code == 0);
  auto dangling = split_lines(s.docker({"images"}).out);
  REQUIRE(dangling.size() == 2);
  CHECK(columns(dangling[1])[1] == "<none>");
  auto pruned = s.docker({"image", "prune", "-f"});
  CHECK(pruned.out == "Deleted Images:\nuntagged: busybox@" + s.digest + "\ndeleted: " + s.id +
                          "\ndeleted: " + s.chain + "\n\nTotal reclaimed space: 1.982MB\n");
  CHECK_FALSE(s.blob_exists(s.layer));
  CHECK(s.docker({"image", "prune", "-f"}).out == "Total reclaimed space: 0B\n");
}

TEST_CASE("e2e: docker ps, system prune and rm on a daemon without containers", "[e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  Daemon daemon;
  auto ps = daemon.docker({"ps", "-a", "-q"});
  INFO(ps.out << ps.err);
  CHECK(ps.exit_code == 0);
  CHECK(ps.out.empty());
  auto prune = daemon.docker({"system", "prune", "-f"});
  INFO(prune.out << prune.err);
  CHECK(prune.exit_code == 0);
  CHECK(prune.out == "Total reclaimed space: 0B\n");
  CHECK(daemon.docker({"volume", "ls", "-q"}).exit_code == 0);
  CHECK(daemon.docker({"rm", "-f", "web"}).exit_code == 0);  // -f: a missing container is fine
  auto rm = daemon.docker({"rm", "web"});
  CHECK(rm.exit_code == 1);
  CHECK(contains(rm.err, "No such container: web"));
  CHECK(contains(daemon.docker({"inspect", "web"}).err, "No such object: web"));
}
