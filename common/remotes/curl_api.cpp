#include "common/remotes/curl_api.h"

namespace imaged::remotes {

Result<const CurlApi*> curl_api() {
  static const Result<CurlApi> api = []() -> Result<CurlApi> {
    CurlApi a = IMAGED_TRY(load_api<CurlApi>(
        "libcurl.so.4", [](SymbolBinder& b, CurlApi& a) { IMAGED_CURL_API(IMAGED_API_BIND) }));
    // Once per process and never undone: libcurl (and OpenSSL under it) stay initialised.
    if (CURLcode rc = a.curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
      return fail(Errc::Internal, std::string("curl_global_init: ") + a.curl_easy_strerror(rc));
    return a;
  }();
  if (!api) return fail(api.error());
  return &*api;
}

}  // namespace imaged::remotes
