// HTTP value types shared by the transport, the authorizer and the registry client, and the
// small URL helpers they need. Plain values; thread-compatible.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/remotes/retry_policy.h"

namespace imaged::remotes {

// Header fields in arrival order; names compared case-insensitively.
class Headers {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field named `name` with one.
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  // The first value, nullopt when absent.
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> get_all(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Streams an upload body: fills `buf`, returns the bytes written (0 at the end).
using BodySource = std::function<Result<size_t>(std::span<std::byte> buf)>;
// Receives a response body chunk by chunk; an error aborts the transfer.
using BodySink = std::function<Status(std::span<const std::byte> bytes)>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;        // a small body sent as is (forms, manifests); ignored with a source
  BodySource body_source;  // a streamed body of exactly body_size bytes
  int64_t body_size = -1;
  bool tls_verify = true;
  std::chrono::milliseconds timeout{0};  // whole exchange; 0 = none (stall detection still on)
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;             // collected body (when not streamed to a sink)
  int64_t body_bytes = 0;       // body bytes received, streamed or collected
  bool body_truncated = false;  // the collected body hit the collect limit (the rest dropped)
  std::string url;              // the URL that answered
};

// How a response is consumed.
struct ResponseHandler {
  // Called once the final response's headers are in, before any body byte; an error aborts.
  std::function<Status(const HttpResponse&)> on_headers;
  // When set, the body of a 2xx response goes here instead of HttpResponse::body.
  BodySink sink;
  // Bytes of a collected body kept; more sets body_truncated and drops the rest.
  size_t collect_limit = 1 << 20;
};

// A failed exchange: no complete response.
struct TransportError {
  FailureKind kind = FailureKind::Other;
  std::string message;         // Go-style: Get "https://host/v2/": dial tcp host:443: ...
  int64_t body_bytes = 0;      // body bytes delivered before the failure
  std::optional<Error> cause;  // a callback's or the authorizer's own error: propagate as is

  // The Error to hand to callers: `cause` if set, else Canceled / DeadlineExceeded (timeouts,
  // stalls) / Unavailable (everything else) with `message`.
  Error to_error() const;
};

// "Get", "Head", "Put", ... (how Go's net/http names methods in errors).
std::string go_method_name(std::string_view method);

struct UrlParts {
  std::string scheme;  // lower-case
  std::string host;    // "host[:port]" as written, lower-cased
  std::string target;  // "/path?query" ("/" when empty)
};
std::optional<UrlParts> split_url(std::string_view url);
// True when both URLs have the same scheme and host[:port].
bool same_origin(std::string_view a, std::string_view b);
// Resolves a Location header against the URL it answered: absolute URLs as is, "//host/p",
// "/path" and relative paths as a browser would (no dot-segment removal).
std::string resolve_location(std::string_view base_url, std::string_view location);
// Percent-encodes a query component (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view text);
// Appends "key=value" (value encoded) to a URL's query.
std::string add_query(std::string url, std::string_view key, std::string_view value);

}  // namespace imaged::remotes
