// The image routes through a running imaged: curl over the Unix socket (status codes, headers and
// JSON shapes per API version) and the real docker CLI. Images are imported into the daemon's
// data root by the test process (both stores allow several processes), so no registry is needed;
// the pull-based seed scenario is in tests/e2e.
#include <signal.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/api/raw_http.h"
#include "tests/daemon/daemon_fixture.h"
#include "tests/support/image_fixture.h"

using imaged::testing::Daemon;
using imaged::testing::ExternalStore;
using imaged::testing::header_of;
using imaged::testing::ImageSpec;
using imaged::testing::LayerSpec;
using imaged::testing::RawHttp;
using imaged::testing::status_of;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
  json doc() const { return json::parse(body); }
};

// curl with the status and content type appended after the body.
Reply request(const Daemon& d, const std::string& method, const std::string& path) {
  auto r =
      d.curl({"-X", method, "-w", "\n%{http_code} %{content_type}", "http://localhost" + path});
  REQUIRE(r.exit_code == 0);
  Reply out;
  auto nl = r.out.rfind('\n');
  out.body = r.out.substr(0, nl);
  std::istringstream tail(r.out.substr(nl + 1));
  tail >> out.status >> out.content_type;
  return out;
}

ImageSpec busybox() {
  ImageSpec s;
  // The seed layer: a 1 986 560-byte tar that unpacks to 1 982 277 bytes (busybox + 3 symlinks).
  s.layers = {LayerSpec{"busybox layer bytes", 1986560, 1982277}};
  s.tags = {"busybox:musl"};
  s.comment = "";
  return s;
}

}  // namespace

TEST_CASE("daemon images: JSON shapes and statuses per API version", "[images][api][daemon]") {
  Daemon d;
  ExternalStore store(d.data_root());
  auto img = store.import(busybox());

  auto v41 = request(d, "GET", "/v1.41/images/json");
  CHECK(v41.status == 200);
  CHECK(v41.content_type == "application/json");
  REQUIRE(v41.doc().size() == 1);
  CHECK(v41.doc()[0]["Size"] == 1982277);
  CHECK(v41.doc()[0]["VirtualSize"] == 1982277);
  CHECK(v41.doc()[0]["Containers"] == -1);
  CHECK(v41.doc()[0]["RepoTags"] == json{"busybox:musl"});
  auto v44 = request(d, "GET", "/v1.44/images/json");
  CHECK_FALSE(v44.doc()[0].contains("VirtualSize"));
  auto v50 = request(d, "GET", "/v1.50/images/json?shared-size=1");
  CHECK(v50.doc()[0]["SharedSize"] == 0);

  CHECK(request(d, "POST", "/v1.41/images/busybox:musl/tag?repo=busybox&tag=media").status == 201);
  auto list = request(d, "GET", "/images/json").doc();
  CHECK(list[0]["RepoTags"] == json{"busybox:media", "busybox:musl"});

  auto i41 = request(d, "GET", "/v1.41/images/busybox:media/json").doc();
  auto i50 = request(d, "GET", "/v1.50/images/busybox:musl/json").doc();
  CHECK(i41["Id"] == img.id);
  CHECK(i50["Id"] == img.id);
  CHECK(i41.contains("ContainerConfig"));
  CHECK(i41["Config"].contains("Hostname"));
  CHECK_FALSE(i50.contains("ContainerConfig"));
  CHECK_FALSE(i50["Config"].contains("Hostname"));
  CHECK(i41["RootFS"]["Layers"] == json{img.diff_ids[0]});

  auto hist = request(d, "GET", "/v1.41/images/busybox:musl/history").doc();
  CHECK(hist[0]["Id"] == img.id);
  CHECK(hist[0]["Tags"] == json{"busybox:media", "busybox:musl"});
  CHECK(hist[1]["Size"] == 1982277);
  CHECK(i41["Size"] == 1982277);

  auto missing = request(d, "GET", "/v1.41/images/nosuch/json");
  CHECK(missing.status == 404);
  CHECK(missing.content_type == "application/json");
  CHECK(missing.body == "{\"message\":\"No such image: nosuch:latest\"}\n");
  CHECK(request(d, "POST", "/images/busybox:musl/tag?repo=busybox&tag=Bad%20Tag").status == 400);
  CHECK(request(d, "DELETE", "/images/%20").doc()["message"] == "image name cannot be blank");

  CHECK(request(d, "POST", "/images/busybox:musl/tag?repo=127.0.0.1:5000/test/busybox&tag=media")
            .status == 201);
  auto conflict = request(d, "DELETE", "/v1.41/images/" + img.short_id());
  CHECK(conflict.status == 409);
  CHECK(conflict.doc()["message"] ==
        "conflict: unable to delete " + img.short_id() +
            " (must be forced) - image is referenced in multiple repositories");

  auto df = request(d, "GET", "/v1.41/system/df").doc();
  CHECK(df["LayersSize"] == 1982277);
  CHECK(df["Images"].size() == 1);

  auto rmi = request(d, "DELETE", "/v1.41/images/busybox:media");
  CHECK(rmi.status == 200);
  CHECK(rmi.doc() == json::parse(R"([{"Untagged":"busybox:media"}])"));
  auto forced = request(d, "DELETE", "/v1.41/images/" + img.id + "?force=1").doc();
  CHECK(forced.back() == json{{"Deleted", img.chain_ids()[0]}});
  CHECK_FALSE(store.has_blob(img.layer_digests[0]));
  CHECK_FALSE(store.has_blob(img.id));
  CHECK(request(d, "GET", "/images/json").doc() == json::array());
  auto info = request(d, "GET", "/info").doc();
  CHECK(info["Images"] == 0);
}

TEST_CASE("daemon images: /events streams headers at once, then events", "[images][api][daemon]") {
  Daemon d;
  ExternalStore store(d.data_root());
  store.import(busybox());
  // A live stream (no since/until): the headers arrive before any event, then the events.
  RawHttp conn(d.socket());
  conn.send(
      "GET /v1.41/events?filters=%7B%22type%22%3A%7B%22image%22%3Atrue%7D%7D HTTP/1.1\r\n"
      "Host: x\r\n\r\n");
  const std::string head = conn.read_until("\r\n\r\n", 10s);
  REQUIRE(status_of(head) == 200);
  CHECK(header_of(head, "Content-Type") == "application/json");
  CHECK(header_of(head, "Transfer-Encoding") == "chunked");
  CHECK(request(d, "POST", "/images/busybox:musl/tag?repo=busybox&tag=live").status == 201);
  const std::string got = conn.read_until("busybox:live", 10s);
  CHECK(got.find("\"Action\":\"tag\"") != std::string::npos);
  CHECK(got.find("\"name\":\"busybox:live\"") != std::string::npos);
  conn.close();

  // since/until in the past: replay only, then the stream ends by itself.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto replay = d.curl({"-s", "http://localhost/v1.41/events?since=" + std::to_string(now - 60) +
                                  "&until=" + std::to_string(now + 1)});
  REQUIRE(replay.exit_code == 0);
  auto first = json::parse(replay.out.substr(0, replay.out.find('\n')));
  CHECK(first["status"] == "tag");
  CHECK(first["Actor"]["Attributes"]["name"] == "busybox:live");
  auto bad = request(d, "GET",
                     "/events?since=" + std::to_string(now) + "&until=" + std::to_string(now - 5));
  CHECK(bad.status == 400);
}

TEST_CASE("daemon images: the docker CLI tags, lists, inspects and removes",
          "[images][daemon][cli]") {
  Daemon d;
  ExternalStore store(d.data_root());
  auto img = store.import(busybox());

  auto tag = d.docker({"tag", "busybox:musl", "busybox:media"});
  REQUIRE(tag.exit_code == 0);
  CHECK(tag.out.empty());
  auto ids = d.docker({"images", "busybox", "-q"});
  CHECK(ids.out == img.short_id() + "\n" + img.short_id() + "\n");
  auto table =
      d.docker({"images", "busybox", "--format", "{{.Repository}} {{.Tag}} {{.ID}} {{.Size}}"});
  CHECK(table.out == "busybox media " + img.short_id() + " 1.98MB\nbusybox musl " + img.short_id() +
                         " 1.98MB\n");
  CHECK(d.docker({"inspect", "--format", "{{.Id}}", "busybox:media"}).out == img.id + "\n");
  CHECK(d.docker({"image", "inspect", "--format", "{{.Id}}", "busybox:musl"}).out == img.id + "\n");
  auto history = d.docker({"history", "busybox:musl"});
  CHECK(history.exit_code == 0);
  CHECK(history.out.find(img.short_id()) != std::string::npos);
  CHECK(history.out.find("<missing>") != std::string::npos);
  auto df = d.docker({"system", "df"});
  CHECK(df.out.find("Images          1 ") != std::string::npos);

  auto untag = d.docker({"rmi", "busybox:media"});
  CHECK(untag.exit_code == 0);
  CHECK(untag.out == "Untagged: busybox:media\n");
  auto missing = d.docker({"rmi", "nosuch:tag"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err == "Error response from daemon: No such image: nosuch:tag\n");
  auto last = d.docker({"rmi", "busybox:musl"});
  CHECK(last.exit_code == 0);
  CHECK(last.out == "Untagged: busybox:musl\nUntagged: busybox@" + img.manifest_digest +
                        "\nDeleted: " + img.id + "\nDeleted: " + img.chain_ids()[0] + "\n");
  CHECK_FALSE(store.has_blob(img.layer_digests[0]));
  CHECK(d.docker({"images", "-q"}).out.empty());
}
