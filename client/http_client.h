// HTTP/1.1 to imaged over its Unix socket (libcurl, CURLOPT_UNIX_SOCKET_PATH).
//
// One HttpClient per process; not thread-safe (one CURL easy handle, reused so the connection
// persists). Requests use the unversioned paths (the daemon's newest API version).
#pragma once

#include <curl/curl.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/host.h"
#include "common/error.h"

namespace imaged::client {

struct HttpRequest {
  std::string method = "GET";
  std::string path;                                        // "/images/json" (not escaped)
  std::vector<std::pair<std::string, std::string>> query;  // escaped here
  std::vector<std::string> headers;                        // "Name: value"
  std::string body;
  std::FILE* upload = nullptr;  // streamed chunked as the body when set (load)
  // When set, a 2xx body is passed here chunk by chunk instead of being collected; returning
  // false aborts the transfer.
  std::function<bool(std::string_view)> on_data;
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string body;  // collected unless on_data consumed it
};

class HttpClient {
 public:
  explicit HttpClient(Host host);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Transport failures are Errc::Unavailable with connect_failure_message(); any HTTP status is
  // a successful Result (see check()).
  Result<HttpResponse> send(const HttpRequest& request);

  // send() and map non-2xx to an Error carrying the daemon's {"message"} (Errc by status).
  Result<HttpResponse> call(const HttpRequest& request);
  // call() then parse the body as JSON.
  Result<nlohmann::json> get_json(const std::string& path,
                                  std::vector<std::pair<std::string, std::string>> query = {});

  const Host& host() const { return host_; }

 private:
  Host host_;
  CURL* curl_ = nullptr;
};

// The error text of a non-2xx response: the JSON "message", or the raw body.
std::string error_message(const HttpResponse& response);

}  // namespace imaged::client
