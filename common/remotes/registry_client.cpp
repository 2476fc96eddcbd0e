// RegistryClient: construction, resolve, manifest and blob fetches, login, catalog, search.
// The push half is in registry_client_push.cpp.
#include "common/remotes/registry_client.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/remotes/registry_client_impl.h"
#include "common/remotes/registry_errors.h"

namespace imaged::remotes {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;

std::string pull_scope(const std::string& path) { return "repository:" + path + ":pull"; }
std::string push_scope(const std::string& path) { return "repository:" + path + ":pull,push"; }

RegistryClient::Impl::Impl(RegistryClientOptions opts, const CredentialSource& creds,
                           std::shared_ptr<spdlog::logger> log)
    : options(std::move(opts)),
      credentials(creds),
      logger(log ? std::move(log) : spdlog::default_logger()),
      transport(options.transport),
      authorizer(
          transport, options.retry,
          [this](const std::string& host) { return !is_insecure_registry(options.hosts, host); }),
      session(transport, authorizer, rate_limits, options.retry, logger) {}

AuthConfig RegistryClient::Impl::creds_for(const Endpoint& ep, const CallContext& ctx) const {
  if (!ep.mirror && ctx.auth && !ctx.auth->empty()) return *ctx.auth;
  return credentials.lookup(ep.mirror ? ep.host : ep.registry).value_or(AuthConfig{});
}

std::vector<Endpoint> RegistryClient::Impl::filter(std::vector<Endpoint> eps) const {
  std::lock_guard lk(http_only_mu);
  if (http_only.empty()) return eps;
  std::erase_if(eps, [&](const Endpoint& e) {
    return e.scheme == "https" && !e.tls_verify && http_only.contains(e.host) &&
           std::any_of(eps.begin(), eps.end(),
                       [&](const Endpoint& o) { return o.scheme == "http" && o.host == e.host; });
  });
  return eps;
}

void RegistryClient::Impl::note_answer(const Endpoint& ep) {
  if (ep.scheme != "http" || !is_insecure_registry(options.hosts, ep.host)) return;
  std::lock_guard lk(http_only_mu);
  http_only.insert(ep.host);
}

Call RegistryClient::Impl::make_call(std::string method, const Endpoint& ep,
                                     const std::string& path, std::vector<std::string> scopes,
                                     AuthConfig creds) const {
  Call c;
  c.method = std::move(method);
  c.endpoint = ep;
  c.url = ep.url(path);
  c.scopes = std::move(scopes);
  c.creds = std::move(creds);
  c.timeout = options.small_request_timeout;
  c.handler.collect_limit = 1 << 20;
  return c;
}

RegistryClient::RegistryClient(RegistryClientOptions options, const CredentialSource& credentials,
                               std::shared_ptr<spdlog::logger> logger)
    : impl_(std::make_unique<Impl>(std::move(options), credentials, std::move(logger))) {}

RegistryClient::~RegistryClient() = default;

std::optional<RateLimit> RegistryClient::rate_limit(std::string_view registry) const {
  return impl_->rate_limits.get(registry);
}
std::map<std::string, RateLimit> RegistryClient::rate_limits() const {
  return impl_->rate_limits.all();
}

namespace {

// dockerd's wording for a manifest fetch that failed with a registry error (its
// distribution/errors.go translatePullError / notFoundError), or the registry's own text when
// the caller asked for it (CallContext::registry_error_text).
Error pull_error(const HttpResponse& resp, const std::string& method, const Reference& ref,
                 const CallContext& ctx) {
  if (ctx.registry_error_text) return error_from_response(resp, method);
  auto errors = parse_registry_errors(resp.body);
  std::string text = format_registry_errors(errors);
  std::string code = errors.empty() ? std::string() : errors.front().code;
  Reference shown = ref.tag() || ref.digest() ? ref : ref.with_default_tag();
  if (resp.status == 404) {
    if (code == "NAME_UNKNOWN")
      return Error{Errc::NotFound, "repository " + ref.familiar_name() + " not found: " + text};
    if (text.empty()) text = "manifest unknown: manifest unknown";
    return Error{Errc::NotFound, "manifest for " + shown.familiar() + " not found: " + text};
  }
  if (resp.status == 401 || resp.status == 403 || code == "DENIED") {
    Error e = error_from_response(resp, method);
    return Error{e.code,
                 "pull access denied for " + ref.familiar_name() +
                     ", repository does not exist or may require 'docker login': " + e.message};
  }
  return error_from_response(resp, method);
}

bool is_2xx(int s) { return s >= 200 && s < 300; }

std::optional<int64_t> content_length(const HttpResponse& r) {
  auto v = r.headers.get("Content-Length");
  if (!v || v->empty()) return std::nullopt;
  int64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
    if (n > (int64_t{1} << 50)) return std::nullopt;
  }
  return n;
}

}  // namespace

// ---- resolve ----

Result<Resolved> RegistryClient::resolve(const Reference& ref, const CallContext& ctx) {
  const std::string object = ref.digest() ? ref.digest()->str() : ref.tag().value_or("latest");
  const std::string path = "/v2/" + ref.path() + "/manifests/" + object;
  auto endpoints = impl_->pull_eps(ref.domain());
  ErrorPicker picked;

  for (size_t i = 0; i < endpoints.size(); ++i) {
    const Endpoint& ep = endpoints[i];
    const bool last = i + 1 == endpoints.size();
    AuthConfig creds = impl_->creds_for(ep, ctx);
    auto request = [&](const std::string& method) {
      Call c = impl_->make_call(method, ep, path, {pull_scope(ref.path())}, creds);
      c.headers.set("Accept", std::string(oci::kManifestAccept));
      c.handler.collect_limit = static_cast<size_t>(oci::kMaxManifestSize) + 1;
      auto r = impl_->session.run(c, ctx, /*retry=*/last);
      if (r) impl_->note_answer(ep);
      return r;
    };
    auto transport_failed = [&](const TransportError& e) {
      picked.add(e.to_error(), e.cause ? ErrorPicker::kStatus : ErrorPicker::kTransport);
      return e.kind == FailureKind::Canceled;
    };

    // 1. HEAD: cheap, and not counted as a pull by Docker Hub.
    auto head = request("HEAD");
    if (!head) {
      if (transport_failed(head.error())) return fail(head.error().to_error());
      continue;
    }
    HttpResponse resp = *std::move(head);
    std::string method = "HEAD";
    if (is_2xx(resp.status)) {
      std::string media_type(
          oci::strip_media_type_params(resp.headers.get("Content-Type").value_or("")));
      if (oci::is_schema1_media_type(media_type))
        return fail(oci::check_manifest_media_type(media_type).error());
      auto digest_header = resp.headers.get("Docker-Content-Digest");
      auto size = content_length(resp);
      auto digest =
          digest_header ? Digest::parse(*digest_header) : Result<Digest>(fail(Errc::NotFound, ""));
      if (digest && size && oci::check_manifest_media_type(media_type)) {
        if (*size > oci::kMaxManifestSize) {
          picked.add(Error{Errc::InvalidArgument, "rejecting " + std::to_string(*size) +
                                                      " byte manifest for " + ref.familiar()},
                     ErrorPicker::kTooLarge);
          continue;
        }
        if (ref.digest() && *ref.digest() != *digest)
          return fail(Errc::FailedPrecondition, "manifest digest mismatch for " + ref.familiar() +
                                                    ": registry says " + digest->str());
        return Resolved{oci::Descriptor{.media_type = media_type, .digest = *digest, .size = *size},
                        ep.base_url(), ep.mirror};
      }
    }
    // 2. GET when HEAD was not enough (no digest header, 405, an error whose body we want).
    if (is_2xx(resp.status) || resp.status == 405 ||
        (resp.status >= 400 && resp.status != 401 && resp.status != 429)) {
      auto get = request("GET");
      if (!get) {
        if (transport_failed(get.error())) return fail(get.error().to_error());
        continue;
      }
      resp = *std::move(get);
      method = "GET";
      if (is_2xx(resp.status)) {
        if (resp.body_truncated || static_cast<int64_t>(resp.body.size()) > oci::kMaxManifestSize) {
          picked.add(Error{Errc::InvalidArgument, "rejecting manifest over " +
                                                      std::to_string(oci::kMaxManifestSize) +
                                                      " bytes for " + ref.familiar()},
                     ErrorPicker::kTooLarge);
          continue;
        }
        std::string media_type = oci::detect_manifest_media_type(
            resp.body, resp.headers.get("Content-Type").value_or(""));
        IMAGED_TRY(oci::check_manifest_media_type(media_type));
        Digest digest = Digest::of(resp.body);
        if (ref.digest() && *ref.digest() != digest)
          return fail(Errc::FailedPrecondition,
                      "manifest digest mismatch for " + ref.familiar() + ": got " + digest.str());
        return Resolved{oci::Descriptor{.media_type = media_type,
                                        .digest = digest,
                                        .size = static_cast<int64_t>(resp.body.size())},
                        ep.base_url(), ep.mirror};
      }
    }
    // 3. A failing status: remember the most relevant error, try the next endpoint.
    picked.add(pull_error(resp, method, ref, ctx),
               resp.status == 404 ? ErrorPicker::kNotFound : ErrorPicker::kStatus);
  }
  return fail(picked.take(Error{Errc::NotFound, "no endpoint for " + ref.domain()}));
}

// ---- manifests ----

Result<std::string> RegistryClient::fetch_manifest(const Reference& repo,
                                                   const oci::Descriptor& desc,
                                                   const CallContext& ctx) {
  if (desc.size > oci::kMaxManifestSize)
    return fail(Errc::InvalidArgument,
                "rejecting " + std::to_string(desc.size) + " byte manifest " + desc.digest.str());
  if (!desc.media_type.empty()) IMAGED_TRY(oci::check_manifest_media_type(desc.media_type));
  const std::string path = "/v2/" + repo.path() + "/manifests/" + desc.digest.str();
  auto endpoints = impl_->pull_eps(repo.domain());
  ErrorPicker picked;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const Endpoint& ep = endpoints[i];
    Call c =
        impl_->make_call("GET", ep, path, {pull_scope(repo.path())}, impl_->creds_for(ep, ctx));
    std::string accept = desc.media_type.empty()
                             ? std::string(oci::kManifestAccept)
                             : desc.media_type + ", " + std::string(oci::kManifestAccept);
    c.headers.set("Accept", accept);
    c.handler.collect_limit = static_cast<size_t>(oci::kMaxManifestSize) + 1;
    auto r = impl_->session.run(c, ctx, /*retry=*/i + 1 == endpoints.size());
    if (!r) {
      if (r.error().kind == FailureKind::Canceled) return fail(r.error().to_error());
      picked.add(r.error().to_error(),
                 r.error().cause ? ErrorPicker::kStatus : ErrorPicker::kTransport);
      continue;
    }
    impl_->note_answer(ep);
    if (!is_2xx(r->status)) {
      picked.add(pull_error(*r, "GET", repo.with_digest(desc.digest), ctx),
                 r->status == 404 ? ErrorPicker::kNotFound : ErrorPicker::kStatus);
      continue;
    }
    if (r->body_truncated || static_cast<int64_t>(r->body.size()) > oci::kMaxManifestSize)
      return fail(Errc::InvalidArgument, "rejecting manifest " + desc.digest.str() + ": over " +
                                             std::to_string(oci::kMaxManifestSize) + " bytes");
    std::string media_type =
        oci::detect_manifest_media_type(r->body, r->headers.get("Content-Type").value_or(""));
    if (oci::is_schema1_media_type(media_type) || media_type.empty() || desc.media_type.empty())
      IMAGED_TRY(oci::check_manifest_media_type(media_type));
    Digest got = Digest::of(r->body);
    if (got != desc.digest)
      return fail(Errc::FailedPrecondition, "manifest digest mismatch: expected " +
                                                desc.digest.str() + ", got " + got.str() +
                                                " from " + ep.base_url());
    return std::move(r->body);
  }
  return fail(picked.take(Error{Errc::NotFound, "no endpoint for " + repo.domain()}));
}

// ---- blobs ----

Result<FetchResult> RegistryClient::fetch_blob(const Reference& repo, const oci::Descriptor& desc,
                                               int64_t offset, const BlobSink& sink,
                                               const RestartFn& on_restart,
                                               const CallContext& ctx) {
  if (offset < 0 || offset > desc.size)
    return fail(Errc::InvalidArgument, "invalid offset " + std::to_string(offset) + " for blob " +
                                           desc.digest.str() + " of " + std::to_string(desc.size) +
                                           " bytes");
  FetchResult res;
  int64_t pos = offset;
  res.end_offset = pos;
  if (pos == desc.size) return res;

  // Sources: foreign URLs first (no credentials), then the registry's endpoints.
  struct Source {
    Endpoint ep;
    std::string url;
    bool external;
  };
  std::vector<Source> sources;
  for (const auto& u : desc.urls) {
    auto p = split_url(u);
    if (!p || (p->scheme != "http" && p->scheme != "https")) continue;
    sources.push_back({Endpoint{repo.domain(), p->scheme, p->host, "", true, true}, u, true});
  }
  for (const auto& ep : impl_->pull_eps(repo.domain()))
    sources.push_back({ep, ep.url("/v2/" + repo.path() + "/blobs/" + desc.digest.str()), false});

  ErrorPicker picked;
  for (size_t si = 0; si < sources.size(); ++si) {
    const Source& src = sources[si];
    const bool last = si + 1 == sources.size();
    auto start = SteadyClock::now();
    int64_t source_bytes = 0;
    for (int attempt = 1;;) {
      // 1. One GET from `pos`, streaming into the sink.
      int64_t attempt_bytes = 0, skip = 0;
      std::optional<Error> caller_error;  // the sink's or on_restart's: never retried
      Call c = impl_->make_call("GET", src.ep, "", {pull_scope(repo.path())},
                                src.external ? AuthConfig{} : impl_->creds_for(src.ep, ctx));
      c.url = src.url;
      c.timeout = std::chrono::milliseconds(0);  // long transfers: stall detection instead
      if (pos > 0) c.headers.set("Range", "bytes=" + std::to_string(pos) + "-");
      c.handler.collect_limit = 64 * 1024;
      c.handler.on_headers = [&](const HttpResponse& r) -> Status {
        if (!is_2xx(r.status)) return {};
        if (r.status == 200 && pos > 0) {
          // The server ignored Range: the body starts at 0.
          if (on_restart) {
            auto st = on_restart();
            if (!st) {
              caller_error = st.error();
              return st;
            }
            ++res.restarts;
            res.bytes_written = 0;
            pos = 0;
          } else {
            skip = pos;
          }
        } else if (r.status == 206) {
          auto range = r.headers.get("Content-Range").value_or("");
          if (!range.starts_with("bytes " + std::to_string(pos) + "-"))
            return fail(Errc::Unavailable, "unexpected Content-Range \"" + range +
                                               "\" for a request from offset " +
                                               std::to_string(pos));
        }
        return {};
      };
      c.handler.sink = [&](std::span<const std::byte> bytes) -> Status {
        if (skip > 0) {
          size_t n =
              static_cast<size_t>(std::min<int64_t>(skip, static_cast<int64_t>(bytes.size())));
          bytes = bytes.subspan(n);
          skip -= static_cast<int64_t>(n);
          if (bytes.empty()) return {};
        }
        if (pos + static_cast<int64_t>(bytes.size()) > desc.size) {
          caller_error =
              Error{Errc::FailedPrecondition, "blob " + desc.digest.str() +
                                                  " is larger than its descriptor size " +
                                                  std::to_string(desc.size)};
          return fail(*caller_error);
        }
        auto st = sink(bytes);
        if (!st) {
          caller_error = st.error();
          return st;
        }
        pos += static_cast<int64_t>(bytes.size());
        res.bytes_written += static_cast<int64_t>(bytes.size());
        attempt_bytes += static_cast<int64_t>(bytes.size());
        return {};
      };
      auto r = impl_->session.exchange(c, ctx.stop);
      res.end_offset = pos;

      // 2. Done, or what went wrong.
      AttemptOutcome o;
      o.attempt = attempt;
      o.bytes_received = attempt_bytes;
      o.canceled = ctx.stop.stop_requested();
      std::optional<Error> error;  // the error to report if we stop here
      if (r) {
        impl_->note_answer(src.ep);
        if (is_2xx(r->status) && pos == desc.size) {
          res.endpoint = src.external ? src.url : src.ep.base_url();
          return res;
        }
        if (r->status == 416 && pos == desc.size) return res;
        if (is_2xx(r->status)) {
          o.kind = FailureKind::ConnectionReset;  // the body ended early
          error = Error{Errc::Unavailable, "Get \"" + c.url + "\": unexpected EOF at offset " +
                                               std::to_string(pos) + " of " +
                                               std::to_string(desc.size)};
        } else {
          Error e = error_from_response(*r, "GET");
          if (r->status == 404 && e.message.find("unexpected status") != std::string::npos)
            e.message = "blob unknown: blob unknown to registry";
          int s = r->status;
          bool transient = s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
          if (!transient) {
            picked.add(e, s == 404 ? ErrorPicker::kNotFound : ErrorPicker::kStatus);
            break;  // next source
          }
          o.kind = FailureKind::HttpStatus;
          o.status = s;
          o.retry_after = r->headers.get("Retry-After").value_or("");
          error = e;
        }
      } else {
        const TransportError& te = r.error();
        if (caller_error) return fail(*caller_error);
        if (te.kind == FailureKind::Canceled) return fail(te.to_error());
        if (te.cause) {  // authorization failures: another source may do better
          picked.add(*te.cause, ErrorPicker::kStatus);
          break;
        }
        o.kind = te.kind;
        error = te.to_error();
      }

      // 3. Retry here, or move on to the next source (a source that has not delivered a byte
      //    yet is not retried when another one is left, as containerd does with mirrors).
      o.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
      source_bytes += attempt_bytes;
      RetryDecision d = impl_->session.decide(o);
      if (!d.retry || (!last && source_bytes == 0)) {
        if (d.reason.find('(') != std::string::npos) error->message += " (" + d.reason + ")";
        picked.add(*error, o.kind == FailureKind::HttpStatus ? ErrorPicker::kStatus
                                                             : ErrorPicker::kTransport);
        break;
      }
      if (!impl_->session.wait_before_retry("GET " + c.url, attempt, d, ctx))
        return fail(Errc::Canceled, "Get \"" + c.url + "\": context canceled");
      ++res.retries;
      attempt = d.reset_attempts ? 1 : attempt + 1;
    }
  }
  Error e = picked.take(Error{Errc::NotFound, "no endpoint for " + repo.domain()});
  return fail(e.context("failed to fetch blob " + desc.digest.str()));
}

// ---- login, catalog, search ----

Result<LoginResult> RegistryClient::check_login(std::string_view registry, const AuthConfig& auth,
                                                const CallContext& ctx) {
  std::string domain = credential_key(registry);
  ErrorPicker picked;
  for (const Endpoint& ep : impl_->push_eps(domain)) {
    Call c = impl_->make_call("GET", ep, "/v2/", {}, auth);
    auto r = impl_->session.run(c, ctx);
    if (!r) {
      if (r.error().kind == FailureKind::Canceled) return fail(r.error().to_error());
      picked.add(r.error().to_error(),
                 r.error().cause ? ErrorPicker::kStatus : ErrorPicker::kTransport);
      continue;
    }
    impl_->note_answer(ep);
    if (is_2xx(r->status)) {
      // As dockerd's loginV2: with a token server, ask for an offline (refresh) token that the
      // CLI may store instead of the password. Best effort: the login already succeeded.
      LoginResult out;
      if (auth.identity_token.empty() && !auth.username.empty()) {
        if (auto realm = impl_->authorizer.bearer_realm(ep.host)) {
          auto t = impl_->authorizer.fetch_token(*realm, {}, auth, /*offline=*/true, ctx.stop);
          if (t) out.identity_token = t->refresh_token;
        }
      }
      return out;
    }
    Error e = error_from_response(*r, "GET");
    if (r->status == 401) e.message = "Get \"" + c.url + "\": " + e.message;
    picked.add(e, ErrorPicker::kStatus);
  }
  return fail(picked.take(Error{Errc::Unavailable, "no endpoint for " + domain}));
}

Result<std::vector<std::string>> RegistryClient::catalog(std::string_view registry, int limit,
                                                         const CallContext& ctx) {
  std::string domain = credential_key(registry);
  ErrorPicker picked;
  for (const Endpoint& ep : impl_->push_eps(domain)) {
    std::vector<std::string> names;
    std::string path = "/v2/_catalog?n=" + std::to_string(std::clamp(limit, 1, 1000));
    bool failed = false;
    while (!path.empty() && static_cast<int>(names.size()) < limit) {
      Call c = impl_->make_call("GET", ep, path, {"registry:catalog:*"}, impl_->creds_for(ep, ctx));
      c.handler.collect_limit = 16 << 20;
      auto r = impl_->session.run(c, ctx);
      if (!r) {
        if (r.error().kind == FailureKind::Canceled) return fail(r.error().to_error());
        picked.add(r.error().to_error(),
                   r.error().cause ? ErrorPicker::kStatus : ErrorPicker::kTransport);
        failed = true;
        break;
      }
      impl_->note_answer(ep);
      if (!is_2xx(r->status)) {
        picked.add(error_from_response(*r, "GET"), ErrorPicker::kStatus);
        failed = true;
        break;
      }
      json j = json::parse(r->body, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("repositories"))
        return fail(Errc::Unavailable, "invalid catalog response from " + ep.base_url());
      if (j["repositories"].is_array())
        for (const auto& n : j["repositories"])
          if (n.is_string() && static_cast<int>(names.size()) < limit)
            names.push_back(n.get<std::string>());
      // Link: </v2/_catalog?last=x&n=100>; rel="next"
      path.clear();
      if (auto link = r->headers.get("Link");
          link && link->find("rel=\"next\"") != std::string::npos) {
        auto lt = link->find('<'), gt = link->find('>');
        if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
          std::string next = link->substr(lt + 1, gt - lt - 1);
          if (auto p = split_url(next)) next = p->target;
          path = next;
        }
      }
    }
    if (!failed) return names;
  }
  return fail(picked.take(Error{Errc::Unavailable, "no endpoint for " + domain}));
}

Result<std::vector<SearchResult>> RegistryClient::search_v1(std::string_view registry,
                                                            std::string_view term, int limit,
                                                            const CallContext& ctx) {
  std::string domain = credential_key(registry);
  std::vector<Endpoint> eps;
  if (domain == "docker.io")
    eps.push_back(Endpoint{"docker.io", "https", "index.docker.io", "", false, true});
  else
    eps = impl_->push_eps(domain);
  std::string query =
      "/v1/search?q=" + url_encode(term) + "&n=" + std::to_string(std::clamp(limit, 1, 100));
  ErrorPicker picked;
  for (const Endpoint& ep : eps) {
    Call c = impl_->make_call("GET", ep, query, {}, AuthConfig{});
    c.handler.collect_limit = 8 << 20;
    auto r = impl_->session.run(c, ctx);
    if (!r) {
      if (r.error().kind == FailureKind::Canceled) return fail(r.error().to_error());
      picked.add(r.error().to_error(), ErrorPicker::kTransport);
      continue;
    }
    impl_->note_answer(ep);
    if (!is_2xx(r->status)) {
      picked.add(error_from_response(*r, "GET"), ErrorPicker::kStatus);
      continue;
    }
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("results") || !j["results"].is_array())
      return fail(Errc::Unavailable, "invalid search response from " + ep.base_url());
    std::vector<SearchResult> out;
    for (const auto& e : j["results"]) {
      if (!e.is_object()) continue;
      SearchResult s;
      if (auto it = e.find("name"); it != e.end() && it->is_string()) s.name = *it;
      if (auto it = e.find("description"); it != e.end() && it->is_string()) s.description = *it;
      if (auto it = e.find("star_count"); it != e.end() && it->is_number_integer())
        s.star_count = *it;
      if (auto it = e.find("is_official"); it != e.end() && it->is_boolean()) s.is_official = *it;
      if (auto it = e.find("is_automated"); it != e.end() && it->is_boolean()) s.is_automated = *it;
      if (!s.name.empty()) out.push_back(std::move(s));
    }
    return out;
  }
  return fail(picked.take(Error{Errc::Unavailable, "no endpoint for " + domain}));
}

}  // namespace imaged::remotes
