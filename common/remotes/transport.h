// One HTTP exchange over libcurl: no redirects followed (the caller decides, so credentials never
// follow a redirect to another host), no retries (the caller's retry policy decides).
//
// Transport owns a pool of CURL easy handles (each keeps its connections alive for reuse) and a
// curl share object for the DNS and TLS-session caches. TLS is verified against the system CAs
// unless a request opts out (insecure registries). A transfer is aborted when no byte moved in
// either direction for `stall_timeout` (FailureKind::Stall), and within about a second of its
// stop_token being triggered (FailureKind::Canceled).
//
// Thread-safe: perform() may run on many threads at once. The Transport must outlive every call.
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <stop_token>
#include <string>

#include "common/remotes/http.h"
#include "common/remotes/retry_policy.h"

namespace imaged::remotes {

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{15'000};
  std::chrono::milliseconds stall_timeout{30'000};  // no bytes either way for this long: abort
  std::string user_agent = std::string("imaged/") + IMAGED_VERSION;
  std::string ca_file;           // empty: the system CA bundle
  size_t max_idle_handles = 16;  // easy handles (and their connections) kept for reuse
};

class Transport {
 public:
  explicit Transport(TransportOptions options = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends `request` and receives the response (the final one; 1xx are skipped). Any HTTP status
  // is a success here. Failures: TransportError with the kind, a Go-style message
  // ("Get \"http://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: connection refused"),
  // and `cause` when one of the handler's callbacks or the body source failed.
  std::expected<HttpResponse, TransportError> perform(const HttpRequest& request,
                                                      const ResponseHandler& handler,
                                                      std::stop_token stop = {});

  const TransportOptions& options() const { return options_; }

 private:
  struct Impl;
  TransportOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Sleeps for `d` unless `stop` is triggered first; false when it was.
bool sleep_unless_stopped(std::chrono::milliseconds d, std::stop_token stop);

// perform() with the retry policy applied to transient transport failures and to 408/429/5xx
// answers (for small requests such as token fetches: the body is collected, never streamed).
// Returns the last response (which may be a failing status) or the last TransportError.
std::expected<HttpResponse, TransportError> perform_with_retries(Transport& transport,
                                                                 const HttpRequest& request,
                                                                 const RetryConfig& retry,
                                                                 std::stop_token stop = {});

}  // namespace imaged::remotes
