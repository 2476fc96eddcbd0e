// docker save / docker load: the archive writer and the loader against a real store (a pulled
// fixture image), and hostile or broken archives that must leave the store untouched.
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/content/content.h"
#include "common/images/image_archive_writer.h"
#include "common/images/image_importer.h"
#include "common/images/image_loader.h"
#include "tests/common/images/pull_env.h"
#include "tests/support/compress.h"
#include "tests/support/registry.h"
#include "tests/support/tar_builder.h"

using namespace imaged;
using namespace imaged::testing;
using nlohmann::json;

namespace {

using Entry = TarEntry;

// The entries of a tar (regular files only).
std::map<std::string, std::string> read_tar(const std::string& bytes) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
    if (!data.empty()) archive_read_data(a, data.data(), data.size());
    out[archive_entry_pathname(e)] = data;
  }
  archive_read_free(a);
  return out;
}

std::string gunzip(const std::string& bytes) {
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  archive_entry* e;
  REQUIRE(archive_read_next_header(a, &e) == ARCHIVE_OK);
  std::string out;
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data(a, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  archive_read_free(a);
  return out;
}

images::ByteSource source_of(const std::string& bytes) {
  auto pos = std::make_shared<size_t>(0);
  return [&bytes, pos](std::span<char> buf) -> Result<size_t> {
    size_t n = std::min(buf.size(), bytes.size() - *pos);
    std::copy_n(bytes.data() + *pos, n, buf.data());
    *pos += n;
    return n;
  };
}

std::set<std::string> blob_listing(const std::filesystem::path& root) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root / "blobs"))
    if (e.is_regular_file()) out.insert(e.path().filename().string());
  return out;
}

// A store holding the "seed" fixture as busybox:media (pulled from a real registry).
struct Bench {
  TestRegistry reg;
  json img;
  PullEnv env;
  std::string id;
  std::string repo;

  Bench() {
    img = json::parse(push_fixture(reg, "seed"))["images"][0];
    repo = reg.host() + "/library/busybox";
    REQUIRE(env.pull(repo + ":musl").status);
    id = img["config_digest"];
    REQUIRE(env.metadata().write([&](metadata::WriteTx& tx) {
      return tx.set_tag("docker.io/library/busybox", "media", id, 1);
    }));
  }

  std::string save(const std::vector<std::string>& names) {
    images::ImageArchiveWriter writer(env.content(), env.metadata(), env.events());
    auto plan = writer.plan(names);
    REQUIRE(plan);
    std::string out;
    REQUIRE(writer.write(*plan, [&](std::string_view b) {
      out.append(b);
      return true;
    }));
    return out;
  }

  std::string blob(const std::string& digest) {
    return content::read_blob(env.content(), Digest::parse(digest).value(), 64 << 20).value();
  }
};

Result<std::vector<std::string>> load_into(PullEnv& env, const std::string& bytes,
                                           images::ImageLoaderOptions options = {}) {
  images::ImageLoader loader(env.content(), env.metadata(), env.events(), nullptr, options);
  return loader.load(source_of(bytes));
}

}  // namespace

TEST_CASE("save: OCI layout plus manifest.json, byte-exact blobs", "[archive]") {
  Bench b;
  const std::string tar = b.save({"busybox:media"});
  auto files = read_tar(tar);
  REQUIRE(files.contains("oci-layout"));
  REQUIRE(files.contains("index.json"));
  REQUIRE(files.contains("manifest.json"));
  const std::string hex = b.id.substr(7);
  const std::string layer = b.img["layers"][0]["digest"];
  const std::string manifest = b.img["manifest_digest"];
  CHECK(files.at("blobs/sha256/" + hex) == b.blob(b.id));
  CHECK(files.at("blobs/sha256/" + layer.substr(7)) == b.blob(layer));
  CHECK(files.at("blobs/sha256/" + manifest.substr(7)) == b.blob(manifest));
  auto mj = json::parse(files.at("manifest.json"));
  REQUIRE(mj.size() == 1);
  CHECK(mj[0]["Config"] == "blobs/sha256/" + hex);
  CHECK(mj[0]["RepoTags"] == json{"busybox:media"});
  CHECK(mj[0]["Layers"] == json{"blobs/sha256/" + layer.substr(7)});
  auto index = json::parse(files.at("index.json"));
  REQUIRE(index["manifests"].size() == 1);
  CHECK(index["manifests"][0]["digest"] == manifest);
  CHECK(index["manifests"][0]["annotations"]["io.containerd.image.name"] ==
        "docker.io/library/busybox:media");
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "media");
  auto events = b.env.events().query(0, INT64_MAX, {}).value();
  CHECK(events.back().action == "save");

  // Unknown names fail before any byte.
  images::ImageArchiveWriter writer(b.env.content(), b.env.metadata(), b.env.events());
  auto bad = writer.plan({"nosuch:tag"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::NotFound);
}

TEST_CASE("load: a saved archive restores ID, tags and repo digests", "[archive]") {
  Bench b;
  const std::string tar = b.save({"busybox:media", b.repo + ":musl"});
  PullEnv fresh;
  auto lines = load_into(fresh, tar);
  REQUIRE(lines);
  CHECK(*lines == std::vector<std::string>{"Loaded image: busybox:media",
                                           "Loaded image: " + b.repo + ":musl"});
  CHECK(fresh.tag_target("docker.io/library/busybox", "media") == b.id);
  CHECK(fresh.tag_target(b.repo, "musl") == b.id);
  CHECK(fresh.digest_target(b.repo, b.img["manifest_digest"]) == b.id);
  CHECK(fresh.ingests().empty());
  CHECK(fresh.metadata().read([&](metadata::ReadTx& tx) { return tx.get_image(b.id); })->size ==
        b.img["total_unpacked_size"].get<int64_t>());
  auto events = fresh.events().query(0, INT64_MAX, {}).value();
  REQUIRE(!events.empty());
  CHECK(events.back().action == "load");

  // gzip-compressed archives are accepted too; loading again is idempotent.
  auto again = load_into(fresh, make_tar({{.path = "x", .data = ""}}, false));
  CHECK_FALSE(again);
  const std::string gz = [&] {
    auto files = read_tar(tar);
    std::vector<Entry> entries;
    for (auto& [p, d] : files) entries.push_back({.path = p, .data = d});
    return make_tar(entries, true);
  }();
  auto gzl = load_into(fresh, gz);
  REQUIRE(gzl);
  CHECK(fresh.image_count() == 1);
}

TEST_CASE("load: a legacy docker-archive with an uncompressed layer.tar", "[archive]") {
  Bench b;
  const std::string layer = b.img["layers"][0]["digest"];
  const std::string raw = gunzip(b.blob(layer));
  const std::string hex = b.id.substr(7);
  json mj = json::array({{{"Config", hex + ".json"},
                          {"RepoTags", {"busybox:legacy"}},
                          {"Layers", {"abc123/layer.tar"}}}});
  const std::string tar = make_tar({{.path = hex + ".json", .data = b.blob(b.id)},
                                    {.path = "abc123/", .type = AE_IFDIR},
                                    {.path = "abc123/VERSION", .data = "1.0"},
                                    {.path = "abc123/layer.tar", .data = raw},
                                    {.path = "manifest.json", .data = mj.dump()}});
  PullEnv fresh;
  auto lines = load_into(fresh, tar);
  REQUIRE(lines);
  CHECK(*lines == std::vector<std::string>{"Loaded image: busybox:legacy"});
  CHECK(fresh.tag_target("docker.io/library/busybox", "legacy") == b.id);
  auto layers =
      fresh.metadata().read([&](metadata::ReadTx& tx) { return tx.layers_of(b.id); }).value();
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].media_type == "application/vnd.docker.image.rootfs.diff.tar");
  CHECK(layers[0].digest == layers[0].diff_id);
  CHECK(layers[0].unpacked_size == b.img["layers"][0]["unpacked_size"].get<int64_t>());
  CHECK(fresh.has_blob(layers[0].digest));
  auto manifests =
      fresh.metadata().read([&](metadata::ReadTx& tx) { return tx.manifests_of(b.id); }).value();
  REQUIRE(manifests.size() == 1);
  CHECK(fresh.has_blob(manifests[0].digest));

  // Untagged: "Loaded image ID".
  json untagged = json::array({{{"Config", hex + ".json"}, {"Layers", {"abc123/layer.tar"}}}});
  PullEnv other;
  auto l2 = load_into(other, make_tar({{.path = hex + ".json", .data = b.blob(b.id)},
                                       {.path = "abc123/layer.tar", .data = raw},
                                       {.path = "manifest.json", .data = untagged.dump()}}));
  REQUIRE(l2);
  CHECK(*l2 == std::vector<std::string>{"Loaded image ID: " + b.id});
}

TEST_CASE("load: hostile and broken archives are refused and change nothing", "[archive]") {
  Bench b;
  const std::string good = b.save({"busybox:media"});
  auto files = read_tar(good);
  const std::string hex = b.id.substr(7);
  const std::string layer = b.img["layers"][0]["digest"];
  const std::string manifest = b.img["manifest_digest"];
  auto entries_with = [&](std::vector<Entry> extra, const std::set<std::string>& drop = {}) {
    std::vector<Entry> out;
    for (auto& [p, d] : files)
      if (!drop.contains(p)) out.push_back({.path = p, .data = d});
    for (auto& e : extra) out.push_back(e);
    return make_tar(out);
  };
  json bad_index = json::parse(files.at("index.json"));
  bad_index["manifests"][0]["size"] = int64_t{1} << 50;
  json nested = {{"schemaVersion", 2},
                 {"mediaType", "application/vnd.oci.image.index.v1+json"},
                 {"manifests", json::array()}};
  // index → index → index → manifest
  std::vector<Entry> nest_entries;
  json child = json::parse(files.at("index.json"))["manifests"][0];
  child.erase("annotations");
  for (int i = 0; i < 3; ++i) {
    json idx = nested;
    idx["manifests"].push_back(child);
    const std::string text = idx.dump();
    const Digest d = Digest::of(text);
    nest_entries.push_back({.path = "blobs/sha256/" + std::string(d.hex()), .data = text});
    child = {{"mediaType", "application/vnd.oci.image.index.v1+json"},
             {"digest", d.str()},
             {"size", text.size()}};
  }
  json top = nested;
  top["manifests"].push_back(child);
  nest_entries.push_back({.path = "index.json", .data = top.dump()});
  json mj_missing = json::parse(files.at("manifest.json"));
  mj_missing[0]["Layers"][0] = "blobs/sha256/" + std::string(64, 'f');
  const std::string raw = gunzip(b.blob(layer));
  std::string other_layer = raw;
  other_layer[other_layer.size() - 1] ^= 1;  // trailing tar padding changed → other diff_id
  json legacy = json::array(
      {{{"Config", hex + ".json"}, {"RepoTags", {"busybox:legacy"}}, {"Layers", {"l/layer.tar"}}}});
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "d/";
  deep += "f";

  struct Case {
    std::string name;
    std::string bytes;
    std::string expect;  // part of the message
    images::ImageLoaderOptions options = {};
  };
  std::vector<Case> cases = {
      {"not a tar", std::string(4096, 'x'), "not a tar"},
      {"empty body", "", "not a tar"},
      {"truncated tar", good.substr(0, good.size() / 2), "broken"},
      {"path traversal", entries_with({{.path = "../evil", .data = "x"}}), "leaves the archive"},
      {"nested traversal", entries_with({{.path = "blobs/../../evil", .data = "x"}}),
       "leaves the archive"},
      {"absolute path", entries_with({{.path = "/etc/evil", .data = "x"}}), "absolute"},
      {"symlink", entries_with({{.path = "link", .type = AE_IFLNK, .link = "/etc/passwd"}}),
       "symbolic link"},
      {"hardlink", entries_with({{.path = "hard", .link = "oci-layout"}}), "hard link"},
      {"char device", entries_with({{.path = "dev", .type = AE_IFCHR}}), "character device"},
      {"fifo", entries_with({{.path = "fifo", .type = AE_IFIFO}}), "fifo"},
      {"manifest.json names a missing layer",
       entries_with({{.path = "manifest.json", .data = mj_missing.dump()}},
                    {"manifest.json", "index.json"}),
       "missing"},
      {"index names a missing blob", entries_with({}, {"blobs/sha256/" + manifest.substr(7)}),
       "missing from the archive"},
      {"digest mismatch",
       entries_with({{.path = "blobs/sha256/" + layer.substr(7), .data = "tampered"}},
                    {"blobs/sha256/" + layer.substr(7)}),
       "mismatch"},
      {"absurd descriptor size",
       entries_with({{.path = "index.json", .data = bad_index.dump()}}, {"index.json"}),
       "absurd size"},
      {"absurd entry size", entries_with({}), "absurd size",
       images::ImageLoaderOptions{.max_entry_size = 1024}},
      {"deep nesting", entries_with({{.path = deep, .data = "x"}}), "nested too deeply"},
      {"nested indexes", entries_with(nest_entries, {"index.json"}), "nested too deeply"},
      {"no manifest", make_tar({{.path = "hello.txt", .data = "hi"}}),
       "neither manifest.json nor index.json"},
      {"manifest.json not JSON", make_tar({{.path = "manifest.json", .data = "not json at all"}}),
       "not a JSON document"},
      {"diff_id mismatch",
       make_tar({{.path = hex + ".json", .data = b.blob(b.id)},
                 {.path = "l/layer.tar", .data = other_layer},
                 {.path = "manifest.json", .data = legacy.dump()}}),
       "diff_id"},
      {"config is not an image config",
       make_tar(
           {{.path = "c.json", .data = "{\"x\":1}"},
            {.path = "l/layer.tar", .data = raw},
            {.path = "manifest.json",
             .data = json::array({{{"Config", "c.json"}, {"Layers", {"l/layer.tar"}}}}).dump()}}),
       "image config"},
      {"duplicate entry", entries_with({{.path = "oci-layout", .data = "{}"}}), "appears twice"},
  };
  REQUIRE(cases.size() >= 15);

  PullEnv target;
  // Something already in the target store, to see that it stays as it is.
  REQUIRE(load_into(target, good));
  const auto blobs_before = blob_listing(target.root());
  const auto images_before = target.image_count();
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = load_into(target, c.bytes, c.options);
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().message.find(c.expect) != std::string::npos);
    CHECK(blob_listing(target.root()) == blobs_before);
    CHECK(target.image_count() == images_before);
    CHECK(target.ingests().empty());
  }
  // Still serving: a good archive loads afterwards.
  REQUIRE(load_into(target, good));
}

// ---- docker import (image_importer.h) ----

namespace {

struct Imported {
  Result<Digest> id;
  PullEnv* env;
  metadata::ImageRecord image() {
    return env->metadata()
        .read([&](metadata::ReadTx& tx) { return tx.get_image(id->str()); })
        .value();
  }
  std::vector<metadata::LayerRecord> layers() {
    return env->metadata()
        .read([&](metadata::ReadTx& tx) { return tx.layers_of(id->str()); })
        .value();
  }
  json config() { return json::parse(content::read_blob(env->content(), *id, 1 << 20).value()); }
};

Imported import_into(PullEnv& env, const std::string& bytes, images::ImportRequest request = {}) {
  images::ImageImporter importer(env.content(), env.metadata(), env.events(), nullptr,
                                 {.docker_version = "test-version"});
  if (request.platform.os.empty()) request.platform = oci::Platform{"linux", "amd64", "", "", {}};
  return Imported{importer.import(request, source_of(bytes)), &env};
}

std::string rootfs_tar() {
  return make_tar({{.path = "bin", .type = AE_IFDIR},
                   {.path = "bin/hello", .data = "#!/bin/sh\necho hello\n"},
                   {.path = "bin/sh", .type = AE_IFLNK, .link = "hello"}});
}

}  // namespace

TEST_CASE("import: one gzip layer whose diff_id is the uploaded tar's, config as moby's",
          "[archive][import]") {
  PullEnv env;
  const std::string tar = rootfs_tar();
  images::ImportRequest request;
  request.tag = Reference::parse("imported:v1").value();
  request.changes = {R"(CMD ["sh"])", "ENV A=b", "LABEL org.x=y"};
  auto imp = import_into(env, tar, request);
  INFO((imp.id ? std::string() : imp.id.error().message));
  REQUIRE(imp.id);

  auto layers = imp.layers();
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].diff_id == Digest::of(tar).str());
  CHECK(layers[0].media_type == oci::kDockerLayerGzip);
  CHECK(layers[0].uncompressed_size == static_cast<int64_t>(tar.size()));
  CHECK(layers[0].unpacked_size == 21 + 5);  // the file and the symlink's target
  const std::string blob =
      content::read_blob(env.content(), Digest::parse(layers[0].digest).value(), 1 << 20).value();
  CHECK(gunzip(blob) == tar);

  json config = imp.config();
  CHECK(config["architecture"] == "amd64");
  CHECK(config["os"] == "linux");
  CHECK(config["comment"] == "Imported from -");
  CHECK(config["docker_version"] == "test-version");
  CHECK(config["config"]["Cmd"] == json{"sh"});
  CHECK(config["config"]["Env"] == json{"A=b"});
  CHECK(config["config"]["Labels"] == json{{"org.x", "y"}});
  CHECK(config["container_config"]["Cmd"].is_null());
  CHECK(config["rootfs"] == json{{"type", "layers"}, {"diff_ids", {Digest::of(tar).str()}}});
  REQUIRE(config["history"].size() == 1);
  CHECK(config["history"][0]["comment"] == "Imported from -");
  CHECK(config["history"][0]["created"] == config["created"]);
  std::vector<std::string> keys;
  for (auto& [k, v] : config.items()) keys.push_back(k);
  CHECK(std::is_sorted(keys.begin(), keys.end()));

  auto image = imp.image();
  CHECK(image.comment == "Imported from -");
  CHECK(image.labels_json == R"({"org.x":"y"})");
  CHECK(env.tag_target("docker.io/library/imported", "v1") == imp.id->str());
  auto manifests = env.metadata()
                       .read([&](metadata::ReadTx& tx) { return tx.manifests_of(imp.id->str()); })
                       .value();
  REQUIRE(manifests.size() == 1);
  CHECK(env.has_blob(manifests[0].digest));

  auto events = env.events().query(0, INT64_MAX, {}).value();
  REQUIRE(events.size() >= 2);
  CHECK(events[events.size() - 2].action == "tag");
  CHECK(events[events.size() - 2].attributes.at("name") == "imported:v1");
  CHECK(events.back().action == "import");
  CHECK(events.back().actor_id == imp.id->str());
  CHECK(events.back().attributes.at("name") == imp.id->str());
  CHECK(events.back().attributes.at("org.x") == "y");
}

TEST_CASE("import: compressed uploads, message, platform, no tag", "[archive][import]") {
  PullEnv env;
  const std::string tar = rootfs_tar();
  for (const std::string& upload : {gzip(tar), zstd(tar)}) {
    images::ImportRequest request;
    request.message = "from a pipe";
    request.platform = oci::Platform{"linux", "arm64", "v8", "", {}};
    auto imp = import_into(env, upload, request);
    REQUIRE(imp.id);
    CHECK(imp.layers()[0].diff_id == Digest::of(tar).str());
    json config = imp.config();
    CHECK(config["comment"] == "from a pipe");
    CHECK(config["architecture"] == "arm64");
    CHECK(config["variant"] == "v8");
    CHECK(env.metadata()
              .read([&](metadata::ReadTx& tx) { return tx.tags_of(imp.id->str()); })
              .value()
              .empty());
  }
}

TEST_CASE("import: not a tar, or bad changes, stores nothing", "[archive][import]") {
  PullEnv env;
  const auto before = blob_listing(env.root());
  auto garbage = import_into(env, std::string(3000, 'x'));
  REQUIRE_FALSE(garbage.id);
  CHECK(garbage.id.error().code == Errc::InvalidArgument);
  CHECK_THAT(garbage.id.error().message, Catch::Contains("not a tar archive"));
  images::ImportRequest request;
  request.changes = {"RUN echo hi"};
  auto refused = import_into(env, rootfs_tar(), request);
  REQUIRE_FALSE(refused.id);
  CHECK(refused.id.error().message == "run is not a valid change command");
  CHECK(blob_listing(env.root()) == before);
  CHECK(env.image_count() == 0);
  CHECK(env.ingests().empty());
}
