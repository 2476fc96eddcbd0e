#include "client/http_client.h"

#include <cerrno>

#include "common/remotes/http.h"

namespace imaged::client {

namespace {

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
  bool aborted = false;
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->request->on_data && status >= 200 && status < 300) {
    if (!t->request->on_data(std::string_view(data, len))) {
      t->aborted = true;
      return 0;
    }
    return len;
  }
  t->response->body.append(data, len);
  return len;
}

size_t read_cb(char* buffer, size_t size, size_t n, void* user) {
  auto* f = static_cast<std::FILE*>(user);
  size_t got = std::fread(buffer, 1, size * n, f);
  if (got == 0 && std::ferror(f)) return CURL_READFUNC_ABORT;
  return got;
}

Errc errc_for_status(long status) {
  switch (status) {
    case 400:
      return Errc::InvalidArgument;
    case 401:
      return Errc::Unauthenticated;
    case 403:
      return Errc::PermissionDenied;
    case 404:
      return Errc::NotFound;
    case 409:
      return Errc::Conflict;
    case 501:
      return Errc::Unimplemented;
    case 503:
      return Errc::Unavailable;
    default:
      return Errc::Internal;
  }
}

}  // namespace

std::string error_message(const HttpResponse& response) {
  if (response.content_type.starts_with("application/json")) {
    auto j = nlohmann::json::parse(response.body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string())
      return j["message"].get<std::string>();
  }
  std::string body = response.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  if (body.empty()) return "the daemon answered HTTP " + std::to_string(response.status);
  return body;
}

HttpClient::HttpClient(Host host) : host_(std::move(host)) {
  static const bool kInit = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)kInit;
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(curl_);
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
  if (!curl_) return fail(Errc::Internal, "cannot initialise libcurl");
  curl_easy_reset(curl_);
  std::string url = "http://localhost" + request.path;
  for (std::size_t i = 0; i < request.query.size(); ++i) {
    url += i == 0 ? '?' : '&';
    url += remotes::url_encode(request.query[i].first) + "=" +
           remotes::url_encode(request.query[i].second);
  }
  HttpResponse response;
  Transfer transfer{&request, &response, curl_};
  curl_easy_setopt(curl_, CURLOPT_UNIX_SOCKET_PATH, host_.socket.c_str());
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_USERAGENT, "imagectl/" IMAGED_VERSION);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  struct curl_slist* headers = nullptr;
  for (auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  if (request.upload) {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl_, CURLOPT_READDATA, request.upload);
    headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
  } else if (request.method == "POST") {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl_);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
  char* ct = nullptr;
  curl_easy_getinfo(curl_, CURLINFO_CONTENT_TYPE, &ct);
  if (ct) response.content_type = ct;
  if (transfer.aborted) return fail(Errc::Canceled, "transfer aborted");
  if (rc == CURLE_COULDNT_CONNECT || (rc != CURLE_OK && response.status == 0)) {
    if (rc == CURLE_COULDNT_CONNECT) return fail(Errc::Unavailable, connect_failure_message(host_));
    return fail(Errc::Unavailable, std::string("talking to imaged at unix://") +
                                       host_.socket.string() + ": " + curl_easy_strerror(rc));
  }
  if (rc != CURLE_OK)
    return fail(Errc::Unavailable,
                std::string("connection to imaged broke: ") + curl_easy_strerror(rc));
  return response;
}

Result<HttpResponse> HttpClient::call(const HttpRequest& request) {
  auto response = IMAGED_TRY(send(request));
  if (response.status < 200 || response.status >= 300)
    return fail(errc_for_status(response.status), error_message(response));
  return response;
}

Result<nlohmann::json> HttpClient::get_json(
    const std::string& path, std::vector<std::pair<std::string, std::string>> query) {
  auto response = IMAGED_TRY(call(HttpRequest{.path = path, .query = std::move(query)}));
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (j.is_discarded()) return fail(Errc::Internal, "the daemon sent invalid JSON for " + path);
  return j;
}

}  // namespace imaged::client
