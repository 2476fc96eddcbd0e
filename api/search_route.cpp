#include "api/search_route.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

#include "api/http_status.h"
#include "api/query.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "common/reference.h"

namespace imaged::api {

namespace {

constexpr int kDefaultLimit = 25;
constexpr int kMaxLimit = 100;
constexpr std::array<std::string_view, 3> kSearchFilters = {"is-automated", "is-official", "stars"};

void answer(ResponseWriter& writer, int status, std::string_view message) {
  writer.json_text(status, error_body(message));
}

// True when the v1 search endpoint is simply absent (a registry:2 answers 404), so the catalog
// is the way to search it.
bool no_v1_search(const Error& err) {
  return err.code == Errc::NotFound || err.code == Errc::Unimplemented ||
         err.code == Errc::InvalidArgument || err.code == Errc::FailedPrecondition ||
         err.code == Errc::Unavailable;
}

}  // namespace

void handle_images_search(const SearchBackend& backend, Request& request, ResponseWriter& writer) {
  int limit = kDefaultLimit;
  if (auto l = request.query.get("limit"); l && !l->empty()) {
    int v = 0;
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
    if (ec != std::errc{} || p != l->data() + l->size())
      return answer(writer, 400, "strconv.Atoi: parsing \"" + *l + "\": invalid syntax");
    if (v < 1 || v > kMaxLimit)
      return answer(writer, 400,
                    "Limit " + std::to_string(v) + " is outside the range of [1, 100]");
    limit = v;
  }
  auto filters = parse_filters(request.query, kSearchFilters);
  if (!filters) return answer(writer, 400, filters.error().message);
  auto official = filters->get_bool_or("is-official", false);
  if (!official) return answer(writer, 400, official.error().message);
  auto automated = filters->get_bool_or("is-automated", false);
  if (!automated) return answer(writer, 400, automated.error().message);
  int64_t min_stars = 0;
  for (const std::string& s : filters->get("stars")) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size())
      return answer(writer, 400, "invalid filter 'stars=" + s + "'");
    min_stars = std::max(min_stars, v);
  }

  const std::string term = request.query.value("term");
  auto [registry, remote] = split_search_term(term);
  remotes::AuthConfig auth;
  if (auto h = request.header("X-Registry-Auth")) auth = remotes::decode_registry_auth(*h);

  std::vector<remotes::SearchResult> results;
  auto v1 = backend.search_v1(registry, remote, limit, auth);
  if (v1) {
    results = std::move(*v1);
  } else if (registry != "docker.io" && no_v1_search(v1.error())) {
    auto names = backend.catalog(registry, auth);
    if (!names) {
      // The catalog is the fallback: its error is the interesting one unless it is merely absent.
      const Error& err = names.error().code == Errc::NotFound ? v1.error() : names.error();
      return answer(writer, registry_error_status(err.code), err.message);
    }
    for (const std::string& name : *names) {
      if (name.find(remote) == std::string::npos) continue;
      remotes::SearchResult r;
      r.name = registry + "/" + name;
      results.push_back(std::move(r));
    }
  } else {
    return answer(writer, registry_error_status(v1.error().code), v1.error().message);
  }

  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    if (filters->contains("is-official") && r.is_official != *official) continue;
    if (filters->contains("is-automated") && r.is_automated != *automated) continue;
    if (r.star_count < min_stars) continue;
    if (static_cast<int>(out.size()) >= limit) break;
    nlohmann::ordered_json e;
    e["star_count"] = r.star_count;
    e["is_official"] = r.is_official;
    e["name"] = r.name;
    e["is_automated"] = r.is_automated;
    e["description"] = r.description;
    out.push_back(std::move(e));
  }
  writer.json(200, out);
}

SearchBackend search_backend(remotes::RegistryClient& client) {
  SearchBackend b;
  b.search_v1 = [&client](std::string_view registry, std::string_view term, int limit,
                          const remotes::AuthConfig& auth) {
    remotes::CallContext ctx;
    if (!auth.empty()) ctx.auth = auth;
    return client.search_v1(registry, term, limit, ctx);
  };
  b.catalog = [&client](std::string_view registry, const remotes::AuthConfig& auth) {
    remotes::CallContext ctx;
    if (!auth.empty()) ctx.auth = auth;
    return client.catalog(registry, 10'000, ctx);
  };
  return b;
}

void register_search_routes(Router& router, SearchBackend backend) {
  router.add(Method::Get, "/images/search",
             [backend = std::move(backend)](Request& request, ResponseWriter& writer) {
               handle_images_search(backend, request, writer);
             });
}

}  // namespace imaged::api
