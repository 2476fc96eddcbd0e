#include "common/remotes/authorizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/remotes/base64.h"
#include "common/remotes/registry_errors.h"

namespace imaged::remotes {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string basic_header(const AuthConfig& creds) {
  return "Basic " + base64_encode(creds.username + ":" + creds.password);
}

bool has_basic(const AuthConfig& c) { return !c.username.empty() && !c.password.empty(); }

// Parses a token response (GET: token/access_token; POST: access_token).
Result<TokenResponse> parse_token_response(const HttpResponse& resp, const std::string& what) {
  json j = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail(Errc::Unavailable, what + ": unable to decode token response");
  TokenResponse t;
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  t.token = str("access_token");
  if (t.token.empty()) t.token = str("token");
  t.refresh_token = str("refresh_token");
  if (auto it = j.find("expires_in");
      it != j.end() && it->is_number_integer() && it->get<int64_t>() > 0)
    t.expires_in = std::chrono::seconds(it->get<int64_t>());
  if (t.token.empty())
    return fail(Errc::Unavailable,
                what + ": authorization server did not include a token in the response");
  return t;
}

// The error for a failing token response, dockerd-style: Get "<realm>": unauthorized: <why>.
Error token_error(const HttpResponse& resp, const std::string& what) {
  std::string why = format_registry_errors(parse_registry_errors(resp.body));
  Errc code = errc_for_status(resp.status);
  if (resp.status == 401) {
    // Hub answers {"details":"incorrect username or password"}: "unauthorized: ...".
    if (why.empty()) why = "unauthorized: authentication required";
    return Error{Errc::Unauthenticated, what + ": " + why};
  }
  if (why.empty()) why = "unexpected status: " + status_text(resp.status);
  if (code == Errc::Internal || code == Errc::NotFound || code == Errc::InvalidArgument ||
      code == Errc::Unimplemented)
    code = Errc::Unavailable;  // a broken token server is not the caller's fault
  return Error{code, what + ": " + why};
}

std::string strip_query_for_message(const std::string& url) { return url.substr(0, url.find('?')); }

}  // namespace

std::vector<std::string> normalize_scopes(std::vector<std::string> scopes) {
  std::erase_if(scopes, [](const std::string& s) { return s.empty(); });
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  return scopes;
}

Authorizer::Authorizer(Transport& transport, RetryConfig retry,
                       std::function<bool(const std::string&)> tls_verify_for,
                       std::string client_id)
    : transport_(transport),
      retry_(retry),
      tls_verify_for_(std::move(tls_verify_for)),
      client_id_(std::move(client_id)) {}

std::string Authorizer::token_key(const std::string& host, const std::vector<std::string>& scopes,
                                  const AuthConfig& creds) {
  std::string key = host + "|";
  for (const auto& s : scopes) key += s + " ";
  // A fingerprint of the credentials, so that one user's token never serves another.
  std::string secret = creds.username + '\0' + creds.password + '\0' + creds.identity_token;
  key += "|" + std::string(Digest::of(secret).hex().substr(0, 32));
  return key;
}

Result<std::optional<std::string>> Authorizer::authorization(
    const std::string& host, const std::vector<std::string>& scopes_in, const AuthConfig& creds,
    std::stop_token stop) {
  if (!creds.registry_token.empty())
    return std::optional<std::string>("Bearer " + creds.registry_token);
  HostState state;
  {
    std::lock_guard lk(mu_);
    auto it = hosts_.find(host);
    if (it == hosts_.end()) return std::optional<std::string>();
    state = it->second;
  }
  if (state.scheme == AuthScheme::Basic) {
    if (!has_basic(creds)) return std::optional<std::string>();
    return std::optional<std::string>(basic_header(creds));
  }
  if (state.scheme != AuthScheme::Bearer) return std::optional<std::string>();

  std::vector<std::string> scopes = normalize_scopes(scopes_in);
  std::string key = token_key(host, scopes, creds);
  {
    std::lock_guard lk(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end() && it->second.expires_at > SteadyClock::now())
      return std::optional<std::string>("Bearer " + it->second.token);
  }
  // Two threads may fetch the same token at once; both results are valid, the last one is kept.
  TokenResponse t = IMAGED_TRY(fetch_token(state.bearer, scopes, creds, /*offline=*/false, stop));
  // Refresh a little early: 90 % of the lifetime.
  auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(t.expires_in) * 9 / 10;
  {
    std::lock_guard lk(mu_);
    tokens_[key] = CachedToken{t.token, SteadyClock::now() + ttl};
  }
  return std::optional<std::string>("Bearer " + t.token);
}

Result<bool> Authorizer::on_unauthorized(const std::string& host,
                                         const std::vector<Challenge>& challenges,
                                         std::vector<std::string>& scopes, const AuthConfig& creds,
                                         bool sent_authorization) {
  if (!creds.registry_token.empty()) return !sent_authorization;
  for (const auto& c : challenges) {
    if (c.scheme == AuthScheme::Bearer) {
      std::string realm = c.param("realm");
      if (realm.empty())
        return fail(Errc::Unavailable, "no realm specified for token auth challenge from " + host);
      // The challenge's scopes are what the registry wants; ours may miss some (mounts).
      std::string wanted = c.param("scope");
      for (size_t start = 0; start < wanted.size();) {
        size_t sp = wanted.find(' ', start);
        std::string s = wanted.substr(start, sp == std::string::npos ? sp : sp - start);
        if (!s.empty() && std::find(scopes.begin(), scopes.end(), s) == scopes.end())
          scopes.push_back(s);
        if (sp == std::string::npos) break;
        start = sp + 1;
      }
      std::lock_guard lk(mu_);
      hosts_[host] = HostState{AuthScheme::Bearer, BearerRealm{realm, c.param("service")}};
      if (sent_authorization) {
        // The token we sent was refused (expired, revoked, too narrow): fetch a new one.
        tokens_.erase(token_key(host, normalize_scopes(scopes), creds));
      }
      return true;
    }
    if (c.scheme == AuthScheme::Basic) {
      if (!has_basic(creds)) return fail(Errc::Unauthenticated, "no basic auth credentials");
      std::lock_guard lk(mu_);
      hosts_[host] = HostState{AuthScheme::Basic, {}};
      return !sent_authorization;  // sent and refused: the credentials are wrong
    }
  }
  return false;
}

Result<TokenResponse> Authorizer::fetch_token(const BearerRealm& realm,
                                              const std::vector<std::string>& scopes,
                                              const AuthConfig& creds, bool offline,
                                              std::stop_token stop) {
  auto parts = split_url(realm.realm);
  if (!parts || (parts->scheme != "http" && parts->scheme != "https"))
    return fail(Errc::Unavailable, "invalid token auth challenge realm \"" + realm.realm + "\"");
  bool verify = !tls_verify_for_ || tls_verify_for_(parts->host);

  // 1. With an identity (refresh) token: the OAuth2 POST form.
  if (!creds.identity_token.empty()) {
    HttpRequest post;
    post.method = "POST";
    post.url = realm.realm;
    post.tls_verify = verify;
    post.headers.set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    std::string form =
        "grant_type=refresh_token&refresh_token=" + url_encode(creds.identity_token) +
        "&service=" + url_encode(realm.service) + "&client_id=" + url_encode(client_id_);
    if (!scopes.empty()) {
      std::string joined;
      for (const auto& s : scopes) joined += (joined.empty() ? "" : " ") + s;
      form += "&scope=" + url_encode(joined);
    }
    if (offline) form += "&access_type=offline";
    post.body = std::move(form);
    std::string what = "Post \"" + strip_query_for_message(realm.realm) + "\"";
    auto r = perform_with_retries(transport_, post, retry_, stop);
    if (!r) return fail(r.error().to_error());
    if (r->status < 300) return parse_token_response(*r, what);
    // Registries without the POST endpoint (GCR 404, Artifactory 401, ACR 400, 405): use GET.
    if (!(r->status == 404 || r->status == 405 || r->status == 401 || r->status == 400))
      return fail(token_error(*r, what));
  }

  // 2. GET realm?service=&scope=..., with basic credentials when we have them.
  HttpRequest get;
  get.url = realm.realm;
  get.tls_verify = verify;
  if (!realm.service.empty()) get.url = add_query(get.url, "service", realm.service);
  for (const auto& s : scopes) get.url = add_query(get.url, "scope", s);
  if (offline) {
    get.url = add_query(get.url, "offline_token", "true");
    get.url = add_query(get.url, "client_id", client_id_);
  }
  if (has_basic(creds)) get.headers.set("Authorization", basic_header(creds));
  std::string what = "Get \"" + strip_query_for_message(realm.realm) + "\"";
  auto r = perform_with_retries(transport_, get, retry_, stop);
  if (!r) return fail(r.error().to_error());
  if (r->status >= 300) return fail(token_error(*r, what));
  return parse_token_response(*r, what);
}

std::optional<BearerRealm> Authorizer::bearer_realm(const std::string& host) const {
  std::lock_guard lk(mu_);
  auto it = hosts_.find(host);
  if (it == hosts_.end() || it->second.scheme != AuthScheme::Bearer) return std::nullopt;
  return it->second.bearer;
}

void Authorizer::forget(const std::string& host) {
  std::lock_guard lk(mu_);
  hosts_.erase(host);
  std::erase_if(tokens_, [&](const auto& kv) { return kv.first.starts_with(host + "|"); });
}

size_t Authorizer::cached_token_count() const {
  std::lock_guard lk(mu_);
  return tokens_.size();
}

}  // namespace imaged::remotes
