// Pulls from the real registry (Debian's docker-registry) through tests/harness, with the fault
// proxy for what a real registry will not do.
#include "common/images/puller.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/images/download_limiter.h"
#include "tests/common/images/pull_env.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

using namespace imaged;
using namespace imaged::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kBusyboxDiffId =
    "sha256:3015f4f74b099d48e3ffa834fe19f5dde56eb56fd13a1068c8c82afc96d557a9";

json image_of(const std::string& summary, size_t i = 0) {
  return json::parse(summary)["images"][i];
}

std::string short_id(const std::string& digest) { return digest.substr(7, 12); }

std::vector<metadata::LayerRecord> layers_of(PullEnv& env, const std::string& id) {
  return env.metadata().read([&](metadata::ReadTx& tx) { return tx.layers_of(id); }).value();
}

json stats(const FaultProxy& proxy) { return json::parse(proxy.stats()); }

int64_t blob_bytes(const json& stats, const std::string& digest) {
  return stats["blob_bytes"].value(digest, int64_t{0});
}

// Uploads one blob to a registry (monolithic POST + PUT).
void upload_blob(const std::string& host, const std::string& repo, const std::string& bytes) {
  auto post = http_request(host, "POST", "/v2/" + repo + "/blobs/uploads/");
  REQUIRE(post.status == 202);
  std::string location = post.headers["location"];
  if (auto p = location.find("/v2/"); p != std::string::npos) location = location.substr(p);
  location += (location.find('?') == std::string::npos ? "?" : "&");
  location += "digest=" + Digest::of(bytes).str();
  auto put =
      http_request(host, "PUT", location, bytes, {{"Content-Type", "application/octet-stream"}});
  REQUIRE(put.status == 201);
}

void put_manifest(const std::string& host, const std::string& repo, const std::string& tag,
                  const std::string& bytes) {
  auto put = http_request(host, "PUT", "/v2/" + repo + "/manifests/" + tag, bytes,
                          {{"Content-Type", std::string(oci::kDockerManifest)}});
  REQUIRE(put.status == 201);
}

bool has_ingest_for(PullEnv& env, const std::string& digest) {
  for (const auto& i : env.ingests())
    if (i.ref == "layer-" + digest) return true;
  return false;
}

}  // namespace

TEST_CASE("pull: a tag is stored with its image, tag and repo digest", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string repo = reg.host() + "/library/busybox";
  const std::string layer = img["layers"][0]["digest"];
  PullEnv env;

  auto out = env.pull(repo + ":musl");
  REQUIRE(out.status);

  // Image ID = config digest; tag row; repo digest = the manifest digest.
  CHECK(env.tag_target(repo, "musl") == img["config_digest"].get<std::string>());
  CHECK(env.digest_target(repo, img["manifest_digest"]) == img["config_digest"].get<std::string>());
  CHECK(env.image_count() == 1);
  CHECK(env.has_blob(img["config_digest"]));
  CHECK(env.has_blob(img["manifest_digest"]));
  CHECK(env.has_blob(layer));
  CHECK(env.ingests().empty());
  auto layers = layers_of(env, img["config_digest"]);
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].digest == layer);
  CHECK(layers[0].diff_id == kBusyboxDiffId);
  CHECK(layers[0].size == img["layers"][0]["size"].get<int64_t>());
  CHECK(layers[0].uncompressed_size == img["layers"][0]["uncompressed_size"].get<int64_t>());
  CHECK(layers[0].unpacked_size == img["layers"][0]["unpacked_size"].get<int64_t>());
  CHECK(layers[0].media_type == std::string(oci::kDockerLayerGzip));
  auto record = env.metadata()
                    .read([&](metadata::ReadTx& tx) {
                      return tx.get_image(img["config_digest"].get<std::string>());
                    })
                    .value();
  CHECK(record.os == "linux");
  CHECK(record.architecture == "amd64");
  CHECK(record.created_ns == 1704067200LL * 1000000000LL);
  CHECK(record.config_media_type == std::string(oci::kDockerConfig));
  CHECK(record.size == img["total_unpacked_size"].get<int64_t>());  // dockerd's Size: 1982277

  // The `pull` event.
  auto events = env.events().query(0, INT64_MAX, {}).value();
  REQUIRE(events.size() == 1);
  CHECK(events[0].action == "pull");
  CHECK(events[0].actor_id == repo + ":musl");
  CHECK(events[0].attributes.at("name") == repo);
}

TEST_CASE("pull: progress has dockerd's shape and order", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string repo = reg.host() + "/library/busybox";
  const std::string id = short_id(img["layers"][0]["digest"]);
  PullEnv env;
  auto out = env.pull(repo + ":musl");
  REQUIRE(out.status);

  auto s = out.statuses();
  std::vector<std::string> without_downloading;
  for (const auto& line : s)
    if (line != id + ": Downloading") without_downloading.push_back(line);
  CHECK(without_downloading ==
        std::vector<std::string>{"musl: Pulling from library/busybox", id + ": Pulling fs layer",
                                 id + ": Verifying Checksum", id + ": Download complete",
                                 id + ": Pull complete",
                                 "Digest: " + img["manifest_digest"].get<std::string>(),
                                 "Status: Downloaded newer image for " + repo + ":musl"});
  CHECK(out.count("Downloading") >= 2);  // 1 MB in 512 KiB steps (interval 0 in tests)
  CHECK(out.json[0] == R"({"status":"Pulling from library/busybox","id":"musl"})");
  CHECK(out.json[1] == R"({"status":"Pulling fs layer","progressDetail":{},"id":")" + id + R"("})");
  // The last Downloading line reports the whole blob.
  const int64_t size = img["layers"][0]["size"];
  for (size_t i = out.lines.size(); i-- > 0;)
    if (out.lines[i].status == "Downloading") {
      CHECK(out.lines[i].current == size);
      CHECK(out.lines[i].total == size);
      CHECK(out.json[i].find(
                R"("progress":"[==================================================\u003e])") !=
            std::string::npos);
      break;
    }
  CHECK(out.count("Extracting") == 0);
}

TEST_CASE("pull: a second pull is up to date after one HEAD", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  FaultProxy proxy(reg);
  const std::string repo = proxy.host() + "/library/busybox";
  PullEnv env;
  REQUIRE(env.pull(repo + ":musl").status);
  proxy.reset();

  auto again = env.pull(repo + ":musl");
  REQUIRE(again.status);
  CHECK(again.statuses() ==
        std::vector<std::string>{"musl: Pulling from library/busybox",
                                 "Digest: " + img["manifest_digest"].get<std::string>(),
                                 "Status: Image is up to date for " + repo + ":musl"});
  auto st = stats(proxy);
  for (auto& [request, n] : st["requests"].items()) {
    INFO(request);
    CHECK(request.find("/blobs/") == std::string::npos);
    CHECK_FALSE(request.starts_with("GET /v2/library/busybox/manifests/"));
  }
  CHECK(st["requests"].value("HEAD /v2/library/busybox/manifests/musl", 0) == 1);
  CHECK(env.events().query(0, INT64_MAX, {}).value().size() == 2);
}

TEST_CASE("pull: by digest records no tag, only the repo digest", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string repo = reg.host() + "/library/busybox";
  const std::string digest = img["manifest_digest"];
  PullEnv env;
  auto out = env.pull(repo + "@" + digest);
  REQUIRE(out.status);
  CHECK_FALSE(env.tag_target(repo, "musl"));
  CHECK_FALSE(env.tag_target(repo, "latest"));
  CHECK(env.digest_target(repo, digest) == img["config_digest"].get<std::string>());
  REQUIRE_FALSE(out.lines.empty());
  CHECK(out.lines[0].id == repo + "@" + digest);
  CHECK(out.lines.back().status == "Status: Downloaded newer image for " + repo + "@" + digest);
  auto again = env.pull(repo + "@" + digest);
  REQUIRE(again.status);
  CHECK(again.lines.back().status == "Status: Image is up to date for " + repo + "@" + digest);
}

TEST_CASE("pull: multi-arch picks the platform and records the index digest", "[pull]") {
  TestRegistry reg;
  const std::string summary = push_fixture(reg, "multiarch");
  const json list = image_of(summary, 0);
  const json oci_index = image_of(summary, 1);
  const std::string repo = reg.host() + "/library/busybox";
  auto child = [](const json& index, const std::string& arch) {
    for (const auto& m : index["manifests"])
      if (m["platform"]["architecture"] == arch) return m;
    FAIL("no " << arch);
    return json();
  };
  PullEnv env;

  SECTION("the daemon's platform by default") {
    auto out = env.pull(repo + ":multi");
    REQUIRE(out.status);
    const std::string amd64 = child(list, "amd64")["config_digest"];
    CHECK(env.tag_target(repo, "multi") == amd64);
    CHECK(env.digest_target(repo, list["manifest_digest"]) == amd64);
    CHECK(out.lines.at(out.lines.size() - 2).status ==
          "Digest: " + list["manifest_digest"].get<std::string>());
    CHECK(env.has_blob(list["manifest_digest"]));
    CHECK(env.has_blob(child(list, "amd64")["manifest_digest"]));
    auto manifests =
        env.metadata().read([&](metadata::ReadTx& tx) { return tx.manifests_of(amd64); }).value();
    REQUIRE(manifests.size() == 2);
    CHECK(manifests[0].kind == metadata::ManifestKind::Index);
    CHECK(manifests[1].platform == "linux/amd64");
  }
  SECTION("a requested platform") {
    auto out = env.pull(repo + ":multi-oci", "linux/arm64");
    REQUIRE(out.status);
    CHECK(env.tag_target(repo, "multi-oci") ==
          child(oci_index, "arm64")["config_digest"].get<std::string>());
  }
  SECTION("a missing platform is an error naming the available ones") {
    auto out = env.pull(repo + ":multi", "linux/s390x");
    REQUIRE_FALSE(out.status);
    CHECK(out.status.error().code == Errc::NotFound);
    const std::string& m = out.status.error().message;
    CHECK(m.find("linux/s390x") != std::string::npos);
    CHECK(m.find("linux/amd64") != std::string::npos);
    CHECK(m.find("linux/arm64/v8") != std::string::npos);
    CHECK(m.find("linux/arm/v7") != std::string::npos);
    CHECK(out.lines.empty());
    CHECK(env.image_count() == 0);
  }
}

TEST_CASE("pull: OCI, zstd and uncompressed layers", "[pull]") {
  TestRegistry reg;
  const std::string repo = reg.host() + "/library/busybox";
  const std::string set = GENERATE("oci", "zstd", "plain");
  const json img = image_of(push_fixture(reg, set));
  PullEnv env;
  auto out = env.pull(repo + ":" + img["tag"].get<std::string>());
  REQUIRE(out.status);
  const std::string id = img["config_digest"];
  CHECK(env.tag_target(repo, img["tag"]) == id);
  auto layers = layers_of(env, id);
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].diff_id == kBusyboxDiffId);
  CHECK(layers[0].media_type == img["layers"][0]["media_type"].get<std::string>());
  CHECK(layers[0].uncompressed_size == img["layers"][0]["uncompressed_size"].get<int64_t>());
  CHECK(layers[0].unpacked_size == img["layers"][0]["unpacked_size"].get<int64_t>());
  auto record = env.metadata().read([&](metadata::ReadTx& tx) { return tx.get_image(id); }).value();
  CHECK(record.config_media_type == std::string(oci::kOciConfig));
}

TEST_CASE("pull: basic auth with the request's credentials", "[pull]") {
  TestRegistry reg({.user = "alice", .password = "s3cret"});
  push_fixture(reg, "seed");
  const std::string ref = reg.host() + "/library/busybox:musl";
  PullEnv env;
  auto anonymous = env.pull(ref);
  REQUIRE_FALSE(anonymous.status);
  CHECK(anonymous.status.error().code == Errc::Unauthenticated);
  auto out =
      env.pull(ref, std::nullopt, remotes::AuthConfig{.username = "alice", .password = "s3cret"});
  REQUIRE(out.status);
  CHECK(env.image_count() == 1);
}

TEST_CASE("pull: bearer tokens through the proxy", "[pull]") {
  TestRegistry reg;
  push_fixture(reg, "seed");
  FaultProxy proxy(reg, {"--bearer", "--token-user", "bob:pw"});
  const std::string ref = proxy.host() + "/library/busybox:musl";
  PullEnv env;
  auto anonymous = env.pull(ref);
  REQUIRE_FALSE(anonymous.status);
  CHECK(anonymous.status.error().code == Errc::Unauthenticated);
  auto out = env.pull(ref, std::nullopt, remotes::AuthConfig{.username = "bob", .password = "pw"});
  REQUIRE(out.status);
  auto st = stats(proxy);
  CHECK_FALSE(st["token_requests"].empty());
}

TEST_CASE("pull: tampered layer bytes are rejected and nothing is committed", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string layer = img["layers"][0]["digest"];
  FaultProxy proxy(reg);
  proxy.configure(json{{"faults", {{{"mode", "tamper"}, {"match", layer}, {"count", -1}}}}}.dump());
  PullEnv env;
  auto out = env.pull(proxy.host() + "/library/busybox:musl");
  REQUIRE_FALSE(out.status);
  CHECK(out.status.error().message == "filesystem layer verification failed for digest " + layer);
  CHECK(env.image_count() == 0);
  CHECK_FALSE(env.has_blob(layer));
  CHECK_FALSE(env.has_blob(img["config_digest"]));
  CHECK_FALSE(env.has_blob(img["manifest_digest"]));
  CHECK_FALSE(has_ingest_for(env, layer));  // bad bytes are not kept for a resume
}

TEST_CASE("pull: a config that lies about diff_ids is rejected and nothing is committed",
          "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed", {"--repo", "library/liar"}));
  const std::string layer = img["layers"][0]["digest"];
  // The same layer, with a config whose diff_id is wrong.
  auto config =
      json::parse(http_request(reg.host(), "GET",
                               "/v2/library/liar/blobs/" + img["config_digest"].get<std::string>())
                      .body);
  config["rootfs"]["diff_ids"][0] = Digest::of("not the tar").str();
  const std::string config_bytes = config.dump();
  upload_blob(reg.host(), "library/liar", config_bytes);
  json manifest = json::parse(http_request(reg.host(), "GET", "/v2/library/liar/manifests/musl", "",
                                           {{"Accept", std::string(oci::kDockerManifest)}})
                                  .body);
  manifest["config"]["digest"] = Digest::of(config_bytes).str();
  manifest["config"]["size"] = config_bytes.size();
  put_manifest(reg.host(), "library/liar", "lie", manifest.dump(3));

  PullEnv env;
  auto out = env.pull(reg.host() + "/library/liar:lie");
  REQUIRE_FALSE(out.status);
  CHECK(out.status.error().code == Errc::FailedPrecondition);
  CHECK(out.status.error().message.starts_with(
      "layers from manifest don't match image configuration"));
  CHECK(env.image_count() == 0);
  CHECK_FALSE(env.has_blob(layer));
  CHECK_FALSE(env.has_blob(Digest::of(config_bytes).str()));

  // The honest image still pulls (the bad attempt left nothing in the way).
  REQUIRE(env.pull(reg.host() + "/library/liar:musl").status);
  CHECK(env.has_blob(layer));
}

TEST_CASE("pull: a blob that keeps arriving truncated fails and keeps its partial", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string layer = img["layers"][0]["digest"];
  FaultProxy proxy(reg);
  proxy.configure(
      json{{"faults", {{{"mode", "truncate"}, {"match", layer}, {"count", -1}}}}}.dump());
  PullEnv env;
  const std::string ref = proxy.host() + "/library/busybox:musl";
  auto out = env.pull(ref);
  REQUIRE_FALSE(out.status);
  CHECK(env.image_count() == 0);
  CHECK_FALSE(env.has_blob(layer));
  CHECK(has_ingest_for(env, layer));

  // Without the fault, the next pull continues where it stopped.
  proxy.configure(R"({"faults": []})");
  proxy.reset();
  REQUIRE(env.pull(ref).status);
  CHECK(blob_bytes(stats(proxy), layer) < img["layers"][0]["size"].get<int64_t>() / 2);
  CHECK(env.has_blob(layer));
}

TEST_CASE("pull: 429 with Retry-After is waited out", "[pull]") {
  TestRegistry reg;
  push_fixture(reg, "seed");
  FaultProxy proxy(reg);
  proxy.configure(
      R"({"faults": [{"mode": "rate429", "match": "/blobs/", "retry_after": 1, "count": 1}]})");
  PullEnv env;
  const auto start = std::chrono::steady_clock::now();
  auto out = env.pull(proxy.host() + "/library/busybox:musl");
  REQUIRE(out.status);
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);
  CHECK(stats(proxy)["faults"][0]["fired"] == 1);
}

TEST_CASE("pull: a stalled download resumes with Range", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string layer = img["layers"][0]["digest"];
  FaultProxy proxy(reg);
  proxy.configure(json{{"faults",
                        {{{"mode", "stall"},
                          {"match", layer},
                          {"after_bytes", 300000},
                          {"seconds", 30},
                          {"then", "close"},
                          {"count", 1}}}}}
                      .dump());
  PullEnv env;  // stall timeout 2 s
  auto out = env.pull(proxy.host() + "/library/busybox:musl");
  REQUIRE(out.status);
  auto st = stats(proxy);
  bool ranged = false;
  for (const auto& entry : st["log"])
    if (entry["path"].get<std::string>().find(layer) != std::string::npos &&
        entry["range"].is_string())
      ranged = ranged || entry["range"].get<std::string>().starts_with("bytes=3");
  CHECK(ranged);
  CHECK(blob_bytes(st, layer) < img["layers"][0]["size"].get<int64_t>() + 300000);
}

TEST_CASE("pull: a server ignoring Range restarts the blob cleanly", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string layer = img["layers"][0]["digest"];
  FaultProxy proxy(reg);
  proxy.configure(json{{"faults",
                        {{{"mode", "stall"},
                          {"match", layer},
                          {"after_bytes", 300000},
                          {"seconds", 30},
                          {"then", "close"},
                          {"count", 1}},
                         {{"mode", "ignore_range"}, {"match", layer}}}}}
                      .dump());
  PullEnv env;
  auto out = env.pull(proxy.host() + "/library/busybox:musl");
  REQUIRE(out.status);
  CHECK(layers_of(env, img["config_digest"])[0].diff_id == kBusyboxDiffId);
}

TEST_CASE("pull: a killed pull resumes after restart and downloads less", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "big", {"--size-mb", "8"}));
  const std::string layer = img["layers"][0]["digest"];
  const int64_t size = img["layers"][0]["size"];
  const int64_t cut = size / 2;
  FaultProxy proxy(reg);
  proxy.configure(json{
      {"faults", {{{"mode", "stall"}, {"match", layer}, {"after_bytes", cut}, {"seconds", 120}}}}}
                      .dump());
  TempDir dir("imaged-kill");
  const std::string ref = proxy.host() + "/library/busybox:big";
  {
    Process child({binary_path("tests/common/images/imaged_pull_child").string(),
                   (dir.path() / "root").string(), ref});
    REQUIRE(wait_until([&] { return blob_bytes(stats(proxy), layer) >= cut; }, 60s));
    // The received bytes reach the ingest file (the Writer buffers at most 1 MiB).
    std::this_thread::sleep_for(300ms);
    child.signal(SIGKILL);
    child.wait(5s);
  }
  proxy.configure(R"({"faults": []})");
  proxy.reset();

  PullEnv env({.root = dir.path() / "root"});
  auto out = env.pull(ref);
  REQUIRE(out.status);
  const int64_t again = blob_bytes(stats(proxy), layer);
  CHECK(again < size);
  CHECK(again <= size - cut + (1 << 20));
  auto layers = layers_of(env, img["config_digest"]);
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].diff_id == img["layers"][0]["diff_id"].get<std::string>());
}

TEST_CASE("pull: concurrent pulls of one image share every download", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "layers8"));
  FaultProxy proxy(reg);
  PullEnv env;
  const std::string ref = proxy.host() + "/library/busybox:layers8";
  std::vector<PullOutcome> outs(5);
  {
    std::vector<std::jthread> threads;
    for (auto& o : outs) threads.emplace_back([&] { o = env.pull(ref); });
  }
  for (auto& o : outs) {
    INFO((o.status ? "" : o.status.error().message));
    CHECK(o.status);
  }
  CHECK(env.image_count() == 1);
  auto st = stats(proxy);
  for (const auto& l : img["layers"])
    CHECK(blob_bytes(st, l["digest"]) == l["size"].get<int64_t>());
  CHECK(blob_bytes(st, img["config_digest"]) == img["config_size"].get<int64_t>());
  CHECK(env.puller().limiter().in_use() == 0);
}

TEST_CASE("pull: layers already stored are not downloaded again", "[pull]") {
  TestRegistry reg;
  push_fixture(reg, "seed");
  const json layers8 = image_of(push_fixture(reg, "layers8"));
  FaultProxy proxy(reg);
  PullEnv env;
  REQUIRE(env.pull(proxy.host() + "/library/busybox:musl").status);
  proxy.reset();
  auto out = env.pull(proxy.host() + "/library/busybox:layers8");
  REQUIRE(out.status);
  const std::string busybox = layers8["layers"][0]["digest"];
  CHECK(out.statuses()[1] == short_id(busybox) + ": Already exists");
  CHECK(blob_bytes(stats(proxy), busybox) == 0);
  CHECK(out.count("Pull complete") == 7);
  // 7 downloads, 3 at a time: at least 4 wait. Which ones is up to the scheduler (six workers
  // race for the three slots; one that loses the race prints its own "Waiting").
  CHECK(out.count("Waiting") >= 4);
  CHECK(out.count("Waiting") <= 7);
}

TEST_CASE("pull: an image already stored under another name prints no layer lines", "[pull]") {
  TestRegistry reg;
  push_fixture(reg, "seed");
  push_fixture(reg, "multiarch");
  PullEnv env;
  REQUIRE(env.pull(reg.host() + "/library/busybox:musl").status);
  // busybox:multi's amd64 entry is the same image: dockerd prints only the digest and status.
  auto out = env.pull(reg.host() + "/library/busybox:multi");
  REQUIRE(out.status);
  CHECK(out.count("Already exists") == 0);
  CHECK(out.count("Pull complete") == 0);
  CHECK(env.image_count() == 1);
}

TEST_CASE("pull: a missing tag is NotFound before any progress", "[pull]") {
  TestRegistry reg;
  push_fixture(reg, "seed");
  PullEnv env;
  auto out = env.pull(reg.host() + "/library/busybox:nosuch");
  REQUIRE_FALSE(out.status);
  CHECK(out.status.error().code == Errc::NotFound);
  CHECK(out.lines.empty());
}

TEST_CASE("pull: a client that goes away stops its pull and keeps the partial download", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string layer = img["layers"][0]["digest"];
  FaultProxy proxy(reg);
  proxy.configure(json{
      {"faults", {{{"mode", "stall"}, {"match", layer}, {"after_bytes", 300000}, {"seconds", 60}}}}}
                      .dump());
  PullEnv env;
  const std::string ref = proxy.host() + "/library/busybox:musl";
  std::stop_source client;
  PullOutcome out;
  std::jthread pulling([&] { out = env.pull(ref, std::nullopt, {}, client.get_token()); });
  REQUIRE(wait_until([&] { return blob_bytes(stats(proxy), layer) >= 300000; }, 20s));
  const auto gone = std::chrono::steady_clock::now();
  client.request_stop();
  pulling.join();
  CHECK(std::chrono::steady_clock::now() - gone < 5s);  // not the 60 s stall
  REQUIRE_FALSE(out.status);
  CHECK(out.status.error().code == Errc::Canceled);
  CHECK(env.image_count() == 0);
  CHECK(has_ingest_for(env, layer));

  proxy.configure(R"({"faults": []})");
  proxy.reset();
  REQUIRE(env.pull(ref).status);
  CHECK(blob_bytes(stats(proxy), layer) <=
        img["layers"][0]["size"].get<int64_t>() - 300000 + (1 << 20));
}

TEST_CASE("pull: one client leaving does not stop a download another pull shares", "[pull]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  const std::string layer = img["layers"][0]["digest"];
  const int64_t size = img["layers"][0]["size"];
  FaultProxy proxy(reg);
  // The download pauses 3 s after 300 kB: time for a second pull to join it.
  proxy.configure(json{{"faults",
                        {{{"mode", "stall"},
                          {"match", layer},
                          {"after_bytes", 300000},
                          {"seconds", 3},
                          {"then", "continue"}}}}}
                      .dump());
  PullEnv env({.client = [] {
    auto c = PullEnvOptions::fast_client();
    c.transport.stall_timeout = std::chrono::seconds(10);
    return c;
  }()});
  const std::string ref = proxy.host() + "/library/busybox:musl";
  std::stop_source first_client;
  std::atomic<bool> second_waits{false};
  PullOutcome first, second;
  std::jthread a([&] { first = env.pull(ref, std::nullopt, {}, first_client.get_token()); });
  REQUIRE(wait_until([&] { return blob_bytes(stats(proxy), layer) >= 300000; }, 20s));
  std::jthread b([&] {
    second = env.pull(ref, std::nullopt, {}, {}, [&](const images::Progress& p) {
      if (p.status == "Pulling fs layer") second_waits = true;
    });
  });
  REQUIRE(wait_until([&] { return second_waits.load(); }, 20s));
  first_client.request_stop();
  a.join();
  b.join();
  CHECK_FALSE(first.status);
  INFO((second.status ? "" : second.status.error().message));
  REQUIRE(second.status);
  CHECK(env.image_count() == 1);
  CHECK(blob_bytes(stats(proxy), layer) == size);  // fetched once, never restarted
}
