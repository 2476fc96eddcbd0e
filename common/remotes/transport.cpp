#include "common/remotes/transport.h"

#include "common/remotes/curl_api.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

namespace imaged::remotes {

namespace {

using SteadyClock = std::chrono::steady_clock;

struct SlistDeleter {
  void operator()(curl_slist* l) const { (*curl_api())->curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct EasyDeleter {
  void operator()(CURL* h) const { (*curl_api())->curl_easy_cleanup(h); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Everything the curl callbacks of one exchange share.
struct Exchange {
  const HttpRequest* request = nullptr;
  const ResponseHandler* handler = nullptr;
  std::stop_token stop;
  std::chrono::milliseconds stall_timeout{0};

  HttpResponse response;
  bool headers_done = false;
  bool streaming = false;
  std::optional<Error> cause;
  bool canceled = false;
  bool stalled = false;

  SteadyClock::time_point last_progress = SteadyClock::now();
  curl_off_t last_dl = -1, last_ul = -1;
  size_t upload_offset = 0;  // into request->body
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // A new response (after 100 Continue, or the only one): start over.
    ex->response.headers.clear();
    ex->response.status = 0;
    auto sp = line.find(' ');
    if (sp != std::string_view::npos) {
      int status = 0;
      for (size_t i = sp + 1; i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]));
           ++i)
        status = status * 10 + (line[i] - '0');
      ex->response.status = status;
    }
    return line.size();
  }
  if (line == "\r\n" || line == "\n") {
    if (ex->response.status >= 200 && !ex->headers_done) {
      ex->headers_done = true;
      if (ex->handler->on_headers) {
        auto st = ex->handler->on_headers(ex->response);
        if (!st) {
          ex->cause = st.error();
          return 0;  // abort
        }
      }
      ex->streaming = ex->handler->sink && ex->response.status >= 200 && ex->response.status < 300;
    }
    return line.size();
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos)
    ex->response.headers.add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  return line.size();
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t len = size * n;
  ex->response.body_bytes += static_cast<int64_t>(len);
  if (ex->streaming) {
    auto st = ex->handler->sink(std::as_bytes(std::span(data, len)));
    if (!st) {
      ex->cause = st.error();
      return 0;  // CURLE_WRITE_ERROR
    }
    return len;
  }
  size_t room = ex->handler->collect_limit > ex->response.body.size()
                    ? ex->handler->collect_limit - ex->response.body.size()
                    : 0;
  if (len > room) ex->response.body_truncated = true;
  ex->response.body.append(data, std::min(len, room));
  return len;
}

size_t on_upload(char* buf, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t len = size * n;
  if (ex->request->body_source) {
    auto r = ex->request->body_source(std::as_writable_bytes(std::span(buf, len)));
    if (!r) {
      ex->cause = r.error();
      return CURL_READFUNC_ABORT;
    }
    return *r;
  }
  const std::string& body = ex->request->body;
  size_t k = std::min(len, body.size() - ex->upload_offset);
  std::memcpy(buf, body.data() + ex->upload_offset, k);
  ex->upload_offset += k;
  return k;
}

int on_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* ex = static_cast<Exchange*>(user);
  if (ex->stop.stop_requested()) {
    ex->canceled = true;
    return 1;
  }
  auto now = SteadyClock::now();
  if (dlnow != ex->last_dl || ulnow != ex->last_ul) {
    ex->last_dl = dlnow;
    ex->last_ul = ulnow;
    ex->last_progress = now;
  } else if (ex->stall_timeout.count() > 0 && now - ex->last_progress >= ex->stall_timeout) {
    ex->stalled = true;
    return 1;
  }
  return 0;
}

// "connection refused" from errno, as Go prints syscall errors.
std::string errno_text(long err) {
  std::string s = std::strerror(static_cast<int>(err));
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string host_port(const std::string& url) {
  auto p = split_url(url);
  if (!p) return url;
  std::string h = p->host;
  bool has_port =
      h.starts_with("[") ? h.find("]:") != std::string::npos : h.find(':') != std::string::npos;
  if (!has_port) h += p->scheme == "https" ? ":443" : ":80";
  return h;
}

std::string hostname(const std::string& url) {
  auto p = split_url(url);
  if (!p) return url;
  std::string h = p->host;
  if (h.starts_with("[")) return h.substr(1, h.find(']') - 1);
  return h.substr(0, h.find(':'));
}

}  // namespace

struct Transport::Impl {
  // libcurl is loaded by the first request (curl_api.h), not when the daemon starts.
  std::once_flag loaded;
  std::optional<Error> load_error;
  const CurlApi* curl = nullptr;

  std::mutex pool_mu;
  std::vector<Easy> idle;
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Impl*>(user)->share_locks[data].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Impl*>(user)->share_locks[data].unlock();
  }

  Easy acquire() {
    {
      std::lock_guard lk(pool_mu);
      if (!idle.empty()) {
        Easy h = std::move(idle.back());
        idle.pop_back();
        return h;
      }
    }
    return Easy(curl->curl_easy_init());
  }
  void release(Easy h, size_t max_idle) {
    curl->curl_easy_reset(h.get());  // keeps live connections and caches
    std::lock_guard lk(pool_mu);
    if (idle.size() < max_idle) idle.push_back(std::move(h));
  }

  // Loads libcurl and sets up the share on the first call; the same outcome afterwards.
  Status load() {
    std::call_once(loaded, [this] {
      auto api = curl_api();
      if (!api) {
        load_error = api.error();
        return;
      }
      curl = *api;
      share = curl->curl_share_init();
      curl->curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Impl::lock);
      curl->curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
      curl->curl_share_setopt(share, CURLSHOPT_USERDATA, this);
      // Connections are not shared across threads (unsupported by libcurl); each pooled handle
      // keeps its own. DNS answers and TLS sessions are shared.
      curl->curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
      curl->curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    });
    if (load_error) return fail(*load_error);
    return {};
  }
};

Transport::Transport(TransportOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

Transport::~Transport() {
  impl_->idle.clear();  // handles first: they reference the share
  if (impl_->share) impl_->curl->curl_share_cleanup(impl_->share);
}

std::expected<HttpResponse, TransportError> Transport::perform(const HttpRequest& req,
                                                               const ResponseHandler& handler,
                                                               std::stop_token stop) {
  const std::string what = go_method_name(req.method) + " \"" + req.url + "\"";
  if (stop.stop_requested())
    return std::unexpected(TransportError{FailureKind::Canceled, what + ": context canceled"});
  if (Status st = impl_->load(); !st)
    return std::unexpected(TransportError{FailureKind::Other, what + ": " + st.error().message});
  const CurlApi& c = *impl_->curl;
  Easy easy = impl_->acquire();
  if (!easy)
    return std::unexpected(
        TransportError{FailureKind::Other, what + ": cannot create a curl handle"});
  CURL* h = easy.get();

  Exchange ex;
  ex.request = &req;
  ex.handler = &handler;
  ex.stop = stop;
  ex.stall_timeout = options_.stall_timeout;
  ex.response.url = req.url;
  char errbuf[CURL_ERROR_SIZE] = {0};

  // 1. Headers. Accept-Encoding is never sent: blobs must arrive byte-exact.
  Slist headers;
  auto append = [&](const std::string& line) {
    curl_slist* l = c.curl_slist_append(headers.get(), line.c_str());
    if (l) {
      (void)headers.release();
      headers.reset(l);
    }
  };
  for (const auto& [k, v] : req.headers.items()) append(k + ": " + v);
  if (!req.headers.has("Content-Type") && req.method != "GET" && req.method != "HEAD")
    append("Content-Type:");  // no default form type from curl
  append("Expect:");

  c.curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  c.curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  c.curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  c.curl_easy_setopt(h, CURLOPT_SHARE, impl_->share);
  c.curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  c.curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  c.curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  c.curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  c.curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
  if (req.timeout.count() > 0)
    c.curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  c.curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, req.tls_verify ? 1L : 0L);
  c.curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, req.tls_verify ? 2L : 0L);
  if (!options_.ca_file.empty()) c.curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  c.curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  c.curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  c.curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
  c.curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  c.curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
  c.curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  c.curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
  c.curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ex);

  // 2. Method and body.
  if (req.method == "HEAD") {
    c.curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "GET") {
    c.curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    int64_t size = req.body_source ? req.body_size : static_cast<int64_t>(req.body.size());
    c.curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    c.curl_easy_setopt(h, CURLOPT_READFUNCTION, &on_upload);
    c.curl_easy_setopt(h, CURLOPT_READDATA, &ex);
    c.curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    c.curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  // 3. Go.
  CURLcode rc = c.curl_easy_perform(h);
  long os_errno = 0;
  c.curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  c.curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  c.curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  impl_->release(std::move(easy), options_.max_idle_handles);

  if (rc == CURLE_OK) return std::move(ex.response);

  // 4. Classify the failure.
  TransportError err;
  err.body_bytes = ex.response.body_bytes;
  std::string detail = errbuf[0] ? errbuf : c.curl_easy_strerror(rc);
  if (ex.canceled || stop.stop_requested()) {
    err.kind = FailureKind::Canceled;
    detail = "context canceled";
  } else if (ex.cause) {
    err.kind = FailureKind::Other;
    err.cause = ex.cause;
    detail = ex.cause->message;
  } else if (ex.stalled) {
    err.kind = FailureKind::Stall;
    detail = "no data received for " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::seconds>(options_.stall_timeout).count()) +
             "s (stalled)";
  } else {
    switch (rc) {
      case CURLE_COULDNT_CONNECT:
        err.kind = FailureKind::ConnectRefused;
        if (os_errno)
          detail = "dial tcp " + host_port(req.url) + ": connect: " + errno_text(os_errno);
        break;
      case CURLE_COULDNT_RESOLVE_HOST:
        err.kind = FailureKind::DnsFailure;
        detail = "dial tcp: lookup " + hostname(req.url) + ": no such host";
        break;
      case CURLE_OPERATION_TIMEDOUT:
        err.kind = FailureKind::Timeout;
        break;
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      case CURLE_SSL_INVALIDCERTSTATUS:
      case CURLE_USE_SSL_FAILED:
        err.kind = FailureKind::TlsFailure;
        break;
      case CURLE_RECV_ERROR:
      case CURLE_SEND_ERROR:
      case CURLE_PARTIAL_FILE:
      case CURLE_GOT_NOTHING:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
        err.kind = FailureKind::ConnectionReset;
        if (rc == CURLE_PARTIAL_FILE || rc == CURLE_GOT_NOTHING)
          detail = "unexpected EOF (" + detail + ")";
        break;
      default:
        err.kind = FailureKind::Other;
        break;
    }
  }
  err.message = what + ": " + detail;
  return std::unexpected(std::move(err));
}

bool sleep_unless_stopped(std::chrono::milliseconds d, std::stop_token stop) {
  if (d.count() <= 0) return !stop.stop_requested();
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lk(mu);
  // wait_for returns the predicate: true only when stop was requested.
  return !cv.wait_for(lk, stop, d, [] { return false; });
}

std::expected<HttpResponse, TransportError> perform_with_retries(Transport& transport,
                                                                 const HttpRequest& request,
                                                                 const RetryConfig& retry,
                                                                 std::stop_token stop) {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  auto start = SteadyClock::now();
  for (int attempt = 1;; ++attempt) {
    auto r = transport.perform(request, ResponseHandler{}, stop);
    AttemptOutcome o;
    o.attempt = attempt;
    if (r) {
      if (r->status < 400) return r;
      o.kind = FailureKind::HttpStatus;
      o.status = r->status;
      o.retry_after = r->headers.get("Retry-After").value_or("");
    } else {
      if (r.error().cause) return r;
      o.kind = r.error().kind;
    }
    o.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
    o.now = std::chrono::system_clock::now();
    o.jitter = uniform(rng);
    o.canceled = stop.stop_requested();
    RetryDecision d = decide_retry(retry, o);
    if (!d.retry) return r;
    if (!sleep_unless_stopped(d.delay, stop))
      return std::unexpected(TransportError{
          FailureKind::Canceled,
          go_method_name(request.method) + " \"" + request.url + "\": context canceled"});
  }
}

}  // namespace imaged::remotes
