// Private to registry_client*.cpp: the state behind RegistryClient and the helpers its pull and
// push halves share.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/remotes/authorizer.h"
#include "common/remotes/registry_client.h"
#include "common/remotes/session.h"

namespace imaged::remotes {

// Keeps the most relevant error of a walk over endpoints (containerd's firstErr priority):
// the later error of a higher or equal priority wins.
class ErrorPicker {
 public:
  void add(Error e, int priority) {
    if (priority >= priority_) {
      error_ = std::move(e);
      priority_ = priority;
    }
  }
  bool empty() const { return priority_ < 0; }
  Error take(Error fallback) { return empty() ? std::move(fallback) : std::move(error_); }

  // Priorities, low to high.
  static constexpr int kTransport = 1;
  static constexpr int kNotFound = 2;
  static constexpr int kStatus = 3;
  static constexpr int kTooLarge = 4;

 private:
  Error error_;
  int priority_ = -1;
};

struct RegistryClient::Impl {
  Impl(RegistryClientOptions opts, const CredentialSource& creds,
       std::shared_ptr<spdlog::logger> logger);

  RegistryClientOptions options;
  const CredentialSource& credentials;
  std::shared_ptr<spdlog::logger> logger;
  Transport transport;
  RateLimits rate_limits;
  Authorizer authorizer;
  Session session;

  // Hosts of insecure registries whose https endpoint failed while http answered: https is
  // skipped for them from then on.
  mutable std::mutex http_only_mu;
  std::set<std::string> http_only;

  // Credentials for an endpoint: the call's own (never for mirrors), else the source's.
  AuthConfig creds_for(const Endpoint& ep, const CallContext& ctx) const;
  // Endpoints with https twins of known http-only hosts dropped.
  std::vector<Endpoint> filter(std::vector<Endpoint> eps) const;
  std::vector<Endpoint> pull_eps(const std::string& domain) const {
    return filter(pull_endpoints(options.hosts, domain));
  }
  std::vector<Endpoint> push_eps(const std::string& domain) const {
    return filter(upstream_endpoints(options.hosts, domain));
  }
  // Records that `ep` answered (an http endpoint of an insecure host: https is skipped later).
  void note_answer(const Endpoint& ep);

  // A Call for `method` `path` on `ep` with the default timeout and collect limit.
  Call make_call(std::string method, const Endpoint& ep, const std::string& path,
                 std::vector<std::string> scopes, AuthConfig creds) const;
};

std::string pull_scope(const std::string& path);
std::string push_scope(const std::string& path);

}  // namespace imaged::remotes
