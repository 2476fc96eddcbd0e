#include "common/oci.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using imaged::Digest;
using imaged::Errc;
namespace oci = imaged::oci;
using nlohmann::json;

namespace {

std::string dg(char c) { return "sha256:" + std::string(64, c); }

json desc_json(std::string_view media_type, char c, int64_t size) {
  return {{"mediaType", media_type}, {"digest", dg(c)}, {"size", size}};
}

std::string docker_manifest() {
  json j = {
      {"schemaVersion", 2},
      {"mediaType", oci::kDockerManifest},
      {"config", desc_json(oci::kDockerConfig, 'c', 1470)},
      {"layers",
       {desc_json(oci::kDockerLayerGzip, 'a', 100), desc_json(oci::kDockerLayerGzip, 'b', 200)}}};
  return j.dump();
}

std::string index_of(const std::vector<std::pair<std::string, char>>& entries,
                     std::string_view media_type = oci::kOciIndex) {
  json m = json::array();
  for (const auto& [spec, c] : entries) {
    json d = desc_json(oci::kOciManifest, c, 500);
    auto p = oci::Platform::parse(spec);
    REQUIRE(p);
    // Keep the spelling given (variant as written) like registries do.
    json pj = {{"os", p->os}, {"architecture", p->architecture}};
    if (!p->variant.empty()) pj["variant"] = p->variant;
    d["platform"] = pj;
    m.push_back(d);
  }
  return json{{"schemaVersion", 2}, {"mediaType", media_type}, {"manifests", m}}.dump();
}

}  // namespace

TEST_CASE("oci: media type classification", "[oci]") {
  CHECK(oci::is_manifest_media_type(oci::kDockerManifest));
  CHECK(oci::is_manifest_media_type(oci::kOciManifest));
  CHECK_FALSE(oci::is_manifest_media_type(oci::kOciIndex));
  CHECK(oci::is_index_media_type(oci::kDockerManifestList));
  CHECK(oci::is_index_media_type(oci::kOciIndex));
  CHECK(oci::is_config_media_type(oci::kDockerConfig));
  CHECK(oci::is_config_media_type(oci::kOciConfig));
  CHECK(oci::is_schema1_media_type(oci::kDockerSchema1SignedManifest));
  CHECK(oci::is_schema1_media_type(oci::kDockerSchema1Manifest));
  for (auto mt : {oci::kDockerLayer, oci::kDockerLayerGzip, oci::kDockerLayerZstd,
                  oci::kDockerForeignLayer, oci::kDockerForeignLayerGzip, oci::kOciLayer,
                  oci::kOciLayerGzip, oci::kOciLayerZstd, oci::kOciNondistributableLayer,
                  oci::kOciNondistributableLayerGzip, oci::kOciNondistributableLayerZstd}) {
    INFO(mt);
    CHECK(oci::is_layer_media_type(mt));
  }
  CHECK_FALSE(oci::is_layer_media_type(oci::kDockerConfig));
  CHECK(oci::is_nondistributable_media_type(oci::kDockerForeignLayerGzip));
  CHECK(oci::is_nondistributable_media_type(oci::kOciNondistributableLayer));
  CHECK_FALSE(oci::is_nondistributable_media_type(oci::kOciLayerGzip));
  CHECK(oci::strip_media_type_params(" application/json ; charset=utf-8") == "application/json");
}

TEST_CASE("oci: layer compression kinds", "[oci]") {
  CHECK(oci::layer_compression(oci::kDockerLayerGzip) == oci::Compression::Gzip);
  CHECK(oci::layer_compression(oci::kDockerForeignLayerGzip) == oci::Compression::Gzip);
  CHECK(oci::layer_compression(oci::kOciLayerGzip) == oci::Compression::Gzip);
  CHECK(oci::layer_compression(oci::kOciLayer) == oci::Compression::None);
  CHECK(oci::layer_compression(oci::kDockerLayer) == oci::Compression::None);
  CHECK(oci::layer_compression(oci::kOciLayerZstd) == oci::Compression::Zstd);
  CHECK(oci::layer_compression(oci::kDockerLayerZstd) == oci::Compression::Zstd);
  CHECK(oci::layer_compression(oci::kOciNondistributableLayerZstd) == oci::Compression::Zstd);
  auto enc = oci::layer_compression("application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
  REQUIRE_FALSE(enc);
  CHECK(enc.error().code == Errc::InvalidArgument);
  CHECK_FALSE(oci::layer_compression(oci::kOciConfig));
  CHECK(oci::compression_name(oci::Compression::Zstd) == "zstd");
}

TEST_CASE("oci: docker schema2 manifest parses", "[oci]") {
  auto m = oci::parse_manifest(docker_manifest(), oci::kDockerManifest);
  REQUIRE(m);
  CHECK(m->media_type == oci::kDockerManifest);
  CHECK(m->config.media_type == oci::kDockerConfig);
  CHECK(m->config.digest.str() == dg('c'));
  CHECK(m->config.size == 1470);
  REQUIRE(m->layers.size() == 2);
  CHECK(m->layers[1].size == 200);
  CHECK(oci::check_image_manifest(*m));
  // Without a media type hint, the document's own mediaType decides.
  auto again = oci::parse_manifest(docker_manifest());
  REQUIRE(again);
  CHECK(again->media_type == oci::kDockerManifest);
}

TEST_CASE("oci: OCI manifest without mediaType field, annotations and subject", "[oci]") {
  json j = {{"schemaVersion", 2},
            {"config", desc_json(oci::kOciConfig, 'c', 10)},
            {"layers", {desc_json(oci::kOciLayerZstd, 'a', 1)}},
            {"annotations", {{"org.opencontainers.image.created", "2024-01-01T00:00:00Z"}}},
            {"subject", desc_json(oci::kOciManifest, 'e', 3)}};
  auto m = oci::parse_manifest(j.dump(), "application/vnd.oci.image.manifest.v1+json; x=y");
  REQUIRE(m);
  CHECK(m->media_type == oci::kOciManifest);
  CHECK(m->annotations.at("org.opencontainers.image.created") == "2024-01-01T00:00:00Z");
  REQUIRE(m->subject);
  CHECK(m->subject->size == 3);
  auto inferred = oci::parse_manifest(j.dump());
  REQUIRE(inferred);
  CHECK(inferred->media_type == oci::kOciManifest);
}

TEST_CASE("oci: docker manifest list and OCI index parse", "[oci]") {
  for (auto mt : {oci::kDockerManifestList, oci::kOciIndex}) {
    auto idx = oci::parse_index(index_of({{"linux/amd64", 'a'}, {"linux/arm64/v8", 'b'}}, mt), mt);
    REQUIRE(idx);
    CHECK(idx->media_type == mt);
    REQUIRE(idx->manifests.size() == 2);
    REQUIRE(idx->manifests[1].platform);
    CHECK(idx->manifests[1].platform->str() == "linux/arm64/v8");
  }
}

TEST_CASE("oci: schema1 manifests are refused with a clear message", "[oci]") {
  std::string s1 = R"({"schemaVersion":1,"name":"x","tag":"latest","fsLayers":[],"history":[]})";
  for (auto mt :
       {std::string_view{}, oci::kDockerSchema1SignedManifest, oci::kDockerSchema1Manifest}) {
    auto m = oci::parse_manifest(s1, mt);
    REQUIRE_FALSE(m);
    CHECK(m.error().code == Errc::InvalidArgument);
    CHECK_THAT(m.error().message, Catch::Contains("schema 1 is not supported"));
    CHECK_THAT(m.error().message, Catch::Contains("unsupported manifest media type"));
  }
  auto st = oci::check_manifest_media_type(oci::kDockerSchema1SignedManifest);
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message, Catch::Contains("re-push"));
  // A schemaVersion 1 document served with a v2 content type is still refused.
  auto lying = oci::parse_manifest(s1, oci::kDockerManifest);
  REQUIRE_FALSE(lying);
  CHECK_THAT(lying.error().message, Catch::Contains("schema 1"));
}

TEST_CASE("oci: unknown manifest media types are refused", "[oci]") {
  auto st = oci::check_manifest_media_type("application/json");
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "unsupported manifest media type application/json");
  auto m = oci::parse_manifest(docker_manifest(), "text/html");
  REQUIRE_FALSE(m);
  CHECK(m.error().code == Errc::InvalidArgument);
}

TEST_CASE("oci: manifests over 4 MiB are refused", "[oci]") {
  json j = json::parse(docker_manifest());
  j["annotations"] = {{"pad", std::string(oci::kMaxManifestSize, 'x')}};
  auto m = oci::parse_manifest(j.dump(), oci::kDockerManifest);
  REQUIRE_FALSE(m);
  CHECK(m.error().code == Errc::InvalidArgument);
  CHECK_THAT(m.error().message, Catch::Contains("too large"));
  auto i = oci::parse_index(std::string(oci::kMaxManifestSize + 1, ' '), oci::kOciIndex);
  REQUIRE_FALSE(i);
  CHECK_THAT(i.error().message, Catch::Contains("too large"));
}

TEST_CASE("oci: malformed manifests name what is wrong", "[oci]") {
  struct Case {
    std::string body;
    std::string needle;
  };
  json base = json::parse(docker_manifest());
  auto with = [&](auto&& edit) {
    json j = base;
    edit(j);
    return j.dump();
  };
  std::vector<Case> cases = {
      {"not json", "invalid JSON"},
      {"[]", "not a JSON object"},
      {with([](json& j) { j["schemaVersion"] = 3; }), "schemaVersion"},
      {with([](json& j) { j.erase("schemaVersion"); }), "schemaVersion"},
      {with([](json& j) { j.erase("config"); }), "missing config"},
      {with([](json& j) { j["layers"] = "x"; }), "layers"},
      {with([](json& j) { j["config"]["digest"] = "sha256:abc"; }), "digest"},
      {with([](json& j) { j["config"]["digest"] = "md5:abc"; }), "unsupported digest algorithm"},
      {with([](json& j) { j["layers"][0]["size"] = -1; }), "negative size"},
      {with([](json& j) { j["layers"][0]["size"] = 1.5; }), "integer"},
      {with([](json& j) { j["layers"][0].erase("mediaType"); }), "mediaType"},
      {with([](json& j) { j["layers"][1]["urls"] = {1}; }), "urls"},
      {with([](json& j) {
         j["annotations"] = {{"a", 1}};
       }),
       "annotations"},
      {with([](json& j) { j["manifests"] = json::array(); }), "manifests"},
      {with([](json& j) { j["mediaType"] = oci::kOciManifest; }), "media type mismatch"},
  };
  for (const auto& c : cases) {
    INFO(c.body.substr(0, 200));
    auto m = oci::parse_manifest(c.body, oci::kDockerManifest);
    REQUIRE_FALSE(m);
    CHECK(m.error().code == Errc::InvalidArgument);
    CHECK_THAT(m.error().message, Catch::Contains(c.needle));
  }
  // An index is not a manifest and vice versa.
  auto idx_as_manifest = oci::parse_manifest(index_of({{"linux/amd64", 'a'}}));
  REQUIRE_FALSE(idx_as_manifest);
  CHECK_THAT(idx_as_manifest.error().message, Catch::Contains("expected an image manifest"));
  auto manifest_as_index = oci::parse_index(docker_manifest());
  REQUIRE_FALSE(manifest_as_index);
  CHECK_THAT(manifest_as_index.error().message, Catch::Contains("expected an index"));
}

TEST_CASE("oci: check_image_manifest refuses non-images", "[oci]") {
  json j = json::parse(docker_manifest());
  j["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json";
  auto m = oci::parse_manifest(j.dump());
  REQUIRE(m);  // structurally fine (an artifact) ...
  auto st = oci::check_image_manifest(*m);
  REQUIRE_FALSE(st);  // ... but not an image
  CHECK_THAT(st.error().message, Catch::Contains("unsupported config media type"));
  j = json::parse(docker_manifest());
  j["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";
  m = oci::parse_manifest(j.dump());
  REQUIRE(m);
  CHECK_FALSE(oci::check_image_manifest(*m));
}

TEST_CASE("oci: detect_manifest_media_type", "[oci]") {
  CHECK(oci::detect_manifest_media_type("{}", "application/vnd.oci.image.index.v1+json") ==
        oci::kOciIndex);
  CHECK(oci::detect_manifest_media_type(docker_manifest(), "application/octet-stream") ==
        oci::kDockerManifest);
  CHECK(oci::detect_manifest_media_type(R"({"schemaVersion":2,"manifests":[]})") == oci::kOciIndex);
  CHECK(oci::detect_manifest_media_type(R"({"schemaVersion":1})") ==
        oci::kDockerSchema1SignedManifest);
  CHECK(oci::detect_manifest_media_type("garbage").empty());
}

TEST_CASE("oci: platform parse and normalisation", "[oci]") {
  struct Case {
    std::string in, out;
  };
  std::vector<Case> cases = {
      {"linux/arm64/v8", "linux/arm64/v8"},
      {"linux/aarch64", "linux/arm64"},
      {"linux/x86_64", "linux/amd64"},
      {"linux/x86-64", "linux/amd64"},
      {"linux/amd64", "linux/amd64"},
      {"linux/arm64", "linux/arm64"},
      {"linux/aarch64/8", "linux/arm64/v8"},
      {"linux/arm", "linux/arm"},
      {"linux/arm/7", "linux/arm/v7"},
      {"linux/arm/v6", "linux/arm/v6"},
      {"linux/armhf", "linux/arm"},
      {"linux/armel", "linux/arm/v6"},
      {"linux/i386", "linux/386"},
      {"Linux/AMD64", "linux/amd64"},
      {"arm64", "linux/arm64"},
      {"windows/amd64", "windows/amd64"},
      {"macos/arm64", "darwin/arm64"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto p = oci::Platform::parse(c.in);
    REQUIRE(p);
    CHECK(p->str() == c.out);
  }
  auto host_only = oci::Platform::parse("linux");
  REQUIRE(host_only);
  CHECK(host_only->architecture == oci::host_platform().architecture);
  for (std::string bad :
       {"", "linux/", "linux/amd64/v1/x", "linux/*", "nosuchos", "lin ux/amd64"}) {
    INFO(bad);
    auto p = oci::Platform::parse(bad);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == Errc::InvalidArgument);
  }
  // normalize: arm default v7, arm64 v8 drops, amd64 v1 drops.
  CHECK(oci::normalize({"linux", "arm", "", "", {}}).variant == "v7");
  CHECK(oci::normalize({"linux", "arm64", "v8", "", {}}).variant.empty());
  CHECK(oci::normalize({"linux", "aarch64", "", "", {}}).architecture == "arm64");
  CHECK(oci::normalize({"", "x86_64", "v1", "", {}}) ==
        oci::Platform{"linux", "amd64", "", "", {}});
  CHECK(oci::host_platform().os == "linux");
}

TEST_CASE("oci: platform parse errors are worded as containerd's platforms.Parse", "[oci]") {
  // dockerd answers `POST /images/create?platform=bogus/x/y/z` (docker-py pull(platform=)) with
  // 400 `"bogus/x/y/z": cannot parse platform specifier: invalid argument`.
  auto message = [](std::string_view spec) { return oci::Platform::parse(spec).error().message; };
  CHECK(message("bogus/x/y/z") ==
        "\"bogus/x/y/z\": cannot parse platform specifier: invalid "
        "argument");
  CHECK(message("linux/*") == "\"linux/*\": wildcards not yet supported: invalid argument");
  CHECK(message("nosuchos") ==
        "\"nosuchos\": unknown operating system or architecture: invalid argument");
  // Components are checked before their count.
  CHECK(message("lin ux/a/b/c") ==
        "\"lin ux\" is an invalid component of \"lin ux/a/b/c\": platform specifier component "
        "must match \"^[A-Za-z0-9_.-]+$\": invalid argument");
}

TEST_CASE("oci: platform matcher ranks compatible platforms", "[oci]") {
  auto P = [](std::string s) { return *oci::Platform::parse(s); };
  oci::PlatformMatcher amd64(P("linux/amd64"));
  CHECK(amd64.rank(P("linux/amd64")) == 0);
  CHECK(amd64.rank(oci::Platform{"linux", "x86_64", "", "", {}}) == 0);
  CHECK(amd64.rank(P("linux/386")) > 0);
  CHECK_FALSE(amd64.match(P("linux/arm64")));
  CHECK_FALSE(amd64.match(P("windows/amd64")));
  CHECK_FALSE(amd64.match(oci::Platform{"unknown", "unknown", "", "", {}}));

  oci::PlatformMatcher arm64(P("linux/arm64"));
  CHECK(arm64.rank(P("linux/arm64/v8")) == 0);
  CHECK(arm64.rank(oci::Platform{"linux", "arm64", "", "", {}}) == 0);
  CHECK(arm64.rank(P("linux/arm/v8")) > 0);
  CHECK(*arm64.rank(P("linux/arm/v7")) > *arm64.rank(P("linux/arm/v8")));
  CHECK_FALSE(arm64.match(P("linux/arm64/v9")));

  oci::PlatformMatcher armv7(P("linux/arm/v7"));
  CHECK(armv7.rank(oci::Platform{"linux", "arm", "", "", {}}) == 0);  // arm defaults to v7
  CHECK(armv7.rank(P("linux/arm/v6")) == 1);
  CHECK(armv7.rank(P("linux/arm/v5")) == 2);
  CHECK_FALSE(armv7.match(P("linux/arm/v8")));
  CHECK_FALSE(armv7.match(P("linux/arm64")));

  oci::PlatformMatcher armv6(P("linux/arm/v6"));
  CHECK_FALSE(armv6.match(P("linux/arm/v7")));

  oci::PlatformMatcher v9(P("linux/arm64/v9"));
  CHECK(v9.rank(P("linux/arm64/v9")) == 0);
  CHECK(v9.match(P("linux/arm64/v8.5")));
  CHECK(v9.match(P("linux/arm64")));
  CHECK_FALSE(v9.match(P("linux/arm64/v8.6")));

  oci::PlatformMatcher amd64v3(P("linux/amd64/v3"));
  CHECK(amd64v3.rank(P("linux/amd64/v3")) == 0);
  CHECK(amd64v3.rank(P("linux/amd64/v2")) == 1);
  CHECK(amd64v3.rank(P("linux/amd64")) == 2);
  CHECK_FALSE(amd64.match(P("linux/amd64/v3")));
}

TEST_CASE("oci: select_manifest picks the best entry", "[oci]") {
  auto P = [](std::string s) { return *oci::Platform::parse(s); };
  auto idx = oci::parse_index(index_of({{"linux/arm/v6", '1'},
                                        {"linux/arm/v7", '2'},
                                        {"linux/arm64/v8", '3'},
                                        {"linux/amd64", '4'},
                                        {"linux/386", '5'}}));
  REQUIRE(idx);
  auto pick = [&](std::string spec) {
    auto d = oci::select_manifest(*idx, oci::PlatformMatcher(P(spec)));
    REQUIRE(d);
    return d->digest.str()[7];
  };
  CHECK(pick("linux/amd64") == '4');
  CHECK(pick("linux/arm64") == '3');
  CHECK(pick("linux/arm64/v8") == '3');
  CHECK(pick("linux/arm/v7") == '2');
  CHECK(pick("linux/arm") == '2');
  CHECK(pick("linux/arm/v6") == '1');
  CHECK(pick("linux/386") == '5');

  // Fallbacks: arm64 runs arm/v7 when no arm64 entry exists; amd64 runs 386.
  auto only32 = oci::parse_index(
      index_of({{"linux/arm/v6", '1'}, {"linux/arm/v7", '2'}, {"linux/386", '5'}}));
  REQUIRE(only32);
  auto d = oci::select_manifest(*only32, oci::PlatformMatcher(P("linux/arm64")));
  REQUIRE(d);
  CHECK(d->digest.str()[7] == '2');
  d = oci::select_manifest(*only32, oci::PlatformMatcher(P("linux/amd64")));
  REQUIRE(d);
  CHECK(d->digest.str()[7] == '5');
}

TEST_CASE("oci: select_manifest names the available platforms when none matches", "[oci]") {
  json j = json::parse(index_of({{"linux/arm64/v8", '1'}, {"linux/arm/v7", '2'}}));
  // An attestation manifest (platform unknown/unknown) is neither chosen nor listed.
  json att = desc_json(oci::kOciManifest, '9', 100);
  att["platform"] = {{"os", "unknown"}, {"architecture", "unknown"}};
  att["annotations"] = {{"vnd.docker.reference.type", "attestation-manifest"}};
  j["manifests"].push_back(att);
  auto idx = oci::parse_index(j.dump());
  REQUIRE(idx);
  auto d = oci::select_manifest(*idx, oci::PlatformMatcher(*oci::Platform::parse("linux/amd64")));
  REQUIRE_FALSE(d);
  CHECK(d.error().code == Errc::NotFound);
  CHECK(d.error().message ==
        "no matching manifest for linux/amd64 in the manifest list entries (available: "
        "linux/arm64/v8, linux/arm/v7)");
}

TEST_CASE("oci: descriptor json round trip", "[oci]") {
  json j = desc_json(oci::kOciLayerGzip, 'a', 42);
  j["urls"] = {"https://example.com/x"};
  j["annotations"] = {{"k", "v"}};
  j["platform"] = {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v7"}};
  auto d = oci::parse_descriptor(j);
  REQUIRE(d);
  CHECK(oci::to_json(*d) == j);
}

TEST_CASE("oci: image config parses with history and raw config", "[oci]") {
  json j = {{"architecture", "amd64"},
            {"os", "linux"},
            {"created", "2024-05-06T07:08:09.123456789Z"},
            {"author", "me"},
            {"docker_version", "20.10.7"},
            {"config", {{"Cmd", {"sh"}}, {"Env", {"PATH=/bin"}}}},
            {"rootfs", {{"type", "layers"}, {"diff_ids", {dg('d'), dg('e')}}}},
            {"history",
             {{{"created", "2024-05-06T07:08:09Z"}, {"created_by", "/bin/sh -c #(nop) ADD file"}},
              {{"created_by", "CMD [\"sh\"]"}, {"empty_layer", true}, {"comment", "c"}}}}};
  auto c = oci::parse_image_config(j.dump());
  REQUIRE(c);
  CHECK(c->architecture == "amd64");
  CHECK(c->os == "linux");
  CHECK(c->author == "me");
  CHECK(c->docker_version == "20.10.7");
  CHECK(c->config["Cmd"][0] == "sh");
  REQUIRE(c->diff_ids.size() == 2);
  CHECK(c->diff_ids[1].str() == dg('e'));
  REQUIRE(c->history.size() == 2);
  CHECK_FALSE(c->history[0].empty_layer);
  CHECK(c->history[1].empty_layer);
  CHECK(c->history[1].comment == "c");
  CHECK(c->platform().str() == "linux/amd64");
}

TEST_CASE("oci: malformed image configs are refused", "[oci]") {
  json base = {{"architecture", "amd64"},
               {"os", "linux"},
               {"rootfs", {{"type", "layers"}, {"diff_ids", {dg('d')}}}}};
  REQUIRE(oci::parse_image_config(base.dump()));
  std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json& j) { j.erase("os"); }, "os"},
      {[](json& j) { j["architecture"] = 5; }, "architecture"},
      {[](json& j) { j.erase("rootfs"); }, "rootfs"},
      {[](json& j) { j["rootfs"]["type"] = "tar"; }, "layers"},
      {[](json& j) { j["rootfs"]["diff_ids"] = {"sha256:zz"}; }, "diff_id"},
      {[](json& j) { j["created"] = "yesterday"; }, "RFC 3339"},
      {[](json& j) {
         j["history"] = {{{"empty_layer", "yes"}}};
       },
       "empty_layer"},
      {[](json& j) { j["config"] = "x"; }, "config"},
  };
  for (auto& [edit, needle] : cases) {
    json j = base;
    edit(j);
    INFO(j.dump());
    auto c = oci::parse_image_config(j.dump());
    REQUIRE_FALSE(c);
    CHECK(c.error().code == Errc::InvalidArgument);
    CHECK_THAT(c.error().message, Catch::Contains(needle));
  }
}

TEST_CASE("oci: rfc3339 times", "[oci]") {
  using namespace std::chrono;
  auto t = oci::parse_rfc3339("1970-01-01T00:01:00Z");
  REQUIRE(t);
  CHECK(t->time_since_epoch() == seconds(60));
  t = oci::parse_rfc3339("1970-01-01T02:00:00.5+02:00");
  REQUIRE(t);
  CHECK(t->time_since_epoch() == seconds(0));
  t = oci::parse_rfc3339("0001-01-01T00:00:00Z");
  REQUIRE(t);
  CHECK(t->time_since_epoch() == seconds(-62135596800));
  for (std::string bad :
       {"", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z",
        "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00Zx"}) {
    INFO(bad);
    CHECK_FALSE(oci::parse_rfc3339(bad));
  }
}

TEST_CASE("oci: chain IDs of a layer stack (image-spec config.md)", "[oci]") {
  const Digest a =
      Digest::parse("sha256:3015f4f74b099d48e3ffa834fe19f5dde56eb56fd13a1068c8c82afc96d557a9")
          .value();
  const Digest b =
      Digest::parse("sha256:f131fc7335e0452915f3c3753fa395d1b0841881342cbdc89577e3168d0fe280")
          .value();
  CHECK(oci::chain_ids({}).empty());
  auto chains = oci::chain_ids({a, b});
  REQUIRE(chains.size() == 2);
  CHECK(chains[0] == a);
  // sha256("sha256:3015… sha256:f131…"), as Python's hashlib computes it.
  CHECK(chains[1].str() ==
        "sha256:8f5cca24293e2c8ffa1ba6c127a7b7e1ca15413f9f01db2017d1c59271b8b30d");
}
