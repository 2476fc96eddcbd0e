#include "common/remotes/session.h"

#include <spdlog/spdlog.h>

#include "common/remotes/challenge.h"

namespace imaged::remotes {

using SteadyClock = std::chrono::steady_clock;

Session::Session(Transport& transport, Authorizer& authorizer, RateLimits& rate_limits,
                 RetryConfig retry, std::shared_ptr<spdlog::logger> logger)
    : transport_(transport),
      authorizer_(authorizer),
      rate_limits_(rate_limits),
      retry_(retry),
      logger_(logger ? std::move(logger) : spdlog::default_logger()),
      rng_(std::random_device{}()) {}

std::expected<HttpResponse, TransportError> Session::exchange(Call& call, std::stop_token stop) {
  std::string url = call.url;
  std::string method = call.method;
  const std::string origin = call.endpoint.url("/");
  int auth_attempts = 0;
  for (int hops = 0;;) {
    HttpRequest req;
    req.method = method;
    req.url = url;
    req.headers = call.headers;
    req.timeout = call.timeout;
    req.tls_verify = call.endpoint.tls_verify;
    if (method != "GET" && method != "HEAD") {
      req.body = call.body;
      if (call.body_source_factory) {
        req.body_source = call.body_source_factory();
        req.body_size = call.body_size;
      }
    }

    // 1. Authorization: only for the endpoint's own origin, never for a redirect target.
    bool same = same_origin(url, origin);
    bool sent_authorization = false;
    if (same) {
      auto auth = authorizer_.authorization(call.endpoint.host, call.scopes, call.creds, stop);
      if (!auth)
        return std::unexpected(
            TransportError{FailureKind::Other, auth.error().message, 0, auth.error()});
      if (*auth) {
        req.headers.set("Authorization", **auth);
        sent_authorization = true;
      }
    } else {
      req.tls_verify = true;  // a CDN is verified even when the registry is not
      req.headers.remove("Authorization");
    }

    auto resp = transport_.perform(req, call.handler, stop);
    if (!resp) return resp;
    logger_->debug("registry: {} {} -> {}", method, url, resp->status);
    if (same) rate_limits_.record(call.endpoint.registry, resp->headers);

    // 2. Challenges: learn, then try again with authorization (bounded).
    if (resp->status == 401 && same && auth_attempts < 2) {
      auto challenges = parse_challenges(resp->headers.get_all("WWW-Authenticate"));
      auto again = authorizer_.on_unauthorized(call.endpoint.host, challenges, call.scopes,
                                               call.creds, sent_authorization);
      if (!again)
        return std::unexpected(
            TransportError{FailureKind::Other, again.error().message, 0, again.error()});
      if (*again) {
        ++auth_attempts;
        continue;
      }
      return resp;
    }

    // 3. Redirects, by hand.
    bool redirect = resp->status == 301 || resp->status == 302 || resp->status == 303 ||
                    resp->status == 307 || resp->status == 308;
    auto location = resp->headers.get("Location");
    if (redirect && location && call.follow_redirects) {
      if (++hops > 10)
        return std::unexpected(TransportError{
            FailureKind::Other,
            go_method_name(method) + " \"" + url + "\": stopped after 10 redirects"});
      if (resp->status == 303 || ((resp->status == 301 || resp->status == 302) && method == "POST"))
        method = "GET";
      url = resolve_location(url, *location);
      continue;
    }
    return resp;
  }
}

RetryDecision Session::decide(AttemptOutcome o) {
  o.now = std::chrono::system_clock::now();
  {
    std::lock_guard lk(rng_mu_);
    o.jitter = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  return decide_retry(retry_, o);
}

bool Session::wait_before_retry(const std::string& operation, int attempt, const RetryDecision& d,
                                const CallContext& ctx) {
  logger_->info("registry: {} failed ({}), retrying in {} ms", operation, d.reason,
                d.delay.count());
  if (ctx.on_retry) ctx.on_retry(RetryNotice{operation, attempt, d.delay, d.reason});
  return sleep_unless_stopped(d.delay, ctx.stop);
}

std::expected<HttpResponse, TransportError> Session::run(Call& call, const CallContext& ctx,
                                                         bool retry) {
  auto start = SteadyClock::now();
  for (int attempt = 1;;) {
    auto r = exchange(call, ctx.stop);
    if (!retry) return r;
    AttemptOutcome o;
    o.attempt = attempt;
    o.canceled = ctx.stop.stop_requested();
    if (r) {
      int s = r->status;
      bool transient = s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
      if (!transient) return r;
      o.kind = FailureKind::HttpStatus;
      o.status = s;
      o.retry_after = r->headers.get("Retry-After").value_or("");
    } else {
      if (r.error().cause) return r;
      o.kind = r.error().kind;
      o.bytes_received = r.error().body_bytes;
    }
    o.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
    RetryDecision d = decide(o);
    if (!d.retry) {
      // Say why we stopped when it was a transient failure we gave up on.
      if (!r && d.reason.find('(') != std::string::npos) r.error().message += " (" + d.reason + ")";
      return r;
    }
    if (!wait_before_retry(call.method + " " + call.url, attempt, d, ctx))
      return std::unexpected(
          TransportError{FailureKind::Canceled,
                         go_method_name(call.method) + " \"" + call.url + "\": context canceled"});
    attempt = d.reset_attempts ? 1 : attempt + 1;
  }
}

}  // namespace imaged::remotes
