// The request engine under RegistryClient: one logical request to one endpoint, with
// authorization (Authorizer), 401 challenges, redirects followed by hand (Authorization only
// ever goes to the endpoint's own origin: blob redirects to a CDN carry none), rate-limit
// recording, and the retry policy. Thread-safe (its collaborators are).
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "common/remotes/auth_config.h"
#include "common/remotes/authorizer.h"
#include "common/remotes/call_context.h"
#include "common/remotes/hosts.h"
#include "common/remotes/http.h"
#include "common/remotes/rate_limit.h"
#include "common/remotes/retry_policy.h"
#include "common/remotes/transport.h"

namespace imaged::remotes {

// One logical registry request.
struct Call {
  std::string method = "GET";
  Endpoint endpoint;  // whose origin gets Authorization, whose registry gets rate limits
  std::string url;    // absolute, usually endpoint.url("/v2/...")
  Headers headers;
  std::string body;
  // For streamed bodies: a fresh source per attempt (a 401 or a retry re-sends the body).
  std::function<BodySource()> body_source_factory;
  int64_t body_size = -1;
  std::vector<std::string> scopes;  // bearer token scopes; the registry's challenge may add some
  AuthConfig creds;
  ResponseHandler handler;
  bool follow_redirects = true;
  std::chrono::milliseconds timeout{0};
};

class Session {
 public:
  Session(Transport& transport, Authorizer& authorizer, RateLimits& rate_limits, RetryConfig retry,
          std::shared_ptr<spdlog::logger> logger);

  // One exchange, no retries: authorize, send, answer 401 challenges (at most twice), follow
  // redirects (at most 10; 303, and 301/302 after a POST, become GET). The result is the final
  // response, whatever its status. TransportError::cause carries authorizer errors
  // (Unauthenticated "no basic auth credentials", token server failures).
  std::expected<HttpResponse, TransportError> exchange(Call& call, std::stop_token stop);

  // exchange() with the retry policy for transient failures and 408/429/5xx answers; sleeps
  // between attempts (interruptibly), reporting each retry through ctx.on_retry. With
  // retry == false, exactly one exchange.
  std::expected<HttpResponse, TransportError> run(Call& call, const CallContext& ctx,
                                                  bool retry = true);

  // decide_retry() with this session's config, the current time and fresh jitter.
  RetryDecision decide(AttemptOutcome outcome);
  // Reports a retry and sleeps; false if canceled meanwhile.
  bool wait_before_retry(const std::string& operation, int attempt, const RetryDecision& d,
                         const CallContext& ctx);

  const RetryConfig& retry_config() const { return retry_; }
  spdlog::logger& log() { return *logger_; }

 private:
  Transport& transport_;
  Authorizer& authorizer_;
  RateLimits& rate_limits_;
  RetryConfig retry_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace imaged::remotes
