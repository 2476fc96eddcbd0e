// Registry authorization (after containerd's docker/authorizer.go and the distribution token
// spec): learns per host from 401 challenges, then authorizes requests to that host.
//
//  - Basic: "Authorization: Basic" from the AuthConfig's username/password.
//  - Bearer: a token from the challenge's realm for (service, scopes): GET with basic
//    credentials (or anonymous), or the OAuth2 POST form with the identity (refresh) token,
//    falling back to GET when the realm refuses POST. Tokens are cached per (host, scopes,
//    credentials) until shortly before expires_in (60 s when absent) runs out.
//  - A registry_token in the AuthConfig is sent as "Bearer <token>" to every request.
//
// Thread-safe. Tokens and credentials are never logged nor put in error messages.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/remotes/auth_config.h"
#include "common/remotes/challenge.h"
#include "common/remotes/retry_policy.h"
#include "common/remotes/transport.h"

namespace imaged::remotes {

struct BearerRealm {
  std::string realm;    // token endpoint URL
  std::string service;  // may be empty
};

struct TokenResponse {
  std::string token;
  std::string refresh_token;  // present when asked for (offline) and granted
  std::chrono::seconds expires_in{60};
};

class Authorizer {
 public:
  // `tls_verify_for(host)` tells whether TLS to a token realm host is verified (false for
  // insecure registries).
  Authorizer(Transport& transport, RetryConfig retry,
             std::function<bool(const std::string& host)> tls_verify_for = {},
             std::string client_id = "imaged");

  // The Authorization header for a request to `host` (host[:port] of the endpoint) needing
  // `scopes` ("repository:library/busybox:pull"), or nullopt when the host has not asked for
  // authorization. May fetch a token (blocking). Errors: Unauthenticated (the token server
  // refused the credentials), PermissionDenied, Unavailable / DeadlineExceeded (token server
  // unreachable), Canceled.
  Result<std::optional<std::string>> authorization(const std::string& host,
                                                   const std::vector<std::string>& scopes,
                                                   const AuthConfig& creds,
                                                   std::stop_token stop = {});

  // Learns from a 401 answered by `host`. Adds any scope the challenge names to `scopes`.
  // Returns true when another attempt (with authorization()) may succeed; false when what was
  // sent was refused and nothing better is known. Unauthenticated "no basic auth credentials"
  // for a Basic challenge without credentials.
  Result<bool> on_unauthorized(const std::string& host, const std::vector<Challenge>& challenges,
                               std::vector<std::string>& scopes, const AuthConfig& creds,
                               bool sent_authorization);

  // Asks `realm` for a token (used by authorization() and by login, which wants `offline` to
  // get a refresh token). Errors as authorization().
  Result<TokenResponse> fetch_token(const BearerRealm& realm,
                                    const std::vector<std::string>& scopes, const AuthConfig& creds,
                                    bool offline, std::stop_token stop = {});

  // The token realm learnt for `host`, nullopt unless it answered with a Bearer challenge.
  std::optional<BearerRealm> bearer_realm(const std::string& host) const;

  // Forgets what was learnt about `host` and its cached tokens.
  void forget(const std::string& host);
  size_t cached_token_count() const;

 private:
  struct HostState {
    AuthScheme scheme = AuthScheme::Other;
    BearerRealm bearer;
  };
  struct CachedToken {
    std::string token;
    std::chrono::steady_clock::time_point expires_at;
  };

  static std::string token_key(const std::string& host, const std::vector<std::string>& scopes,
                               const AuthConfig& creds);

  Transport& transport_;
  RetryConfig retry_;
  std::function<bool(const std::string&)> tls_verify_for_;
  std::string client_id_;

  mutable std::mutex mu_;
  std::map<std::string, HostState> hosts_;
  std::map<std::string, CachedToken> tokens_;
};

// Sorted, de-duplicated scopes (a stable cache key and query order).
std::vector<std::string> normalize_scopes(std::vector<std::string> scopes);

}  // namespace imaged::remotes
