// libcurl, opened on first use (see common/dynamic_library.h for why).
//
// curl_api() loads libcurl.so.4 once, resolves the functions the registry transport calls and
// runs curl_global_init(); later calls return the same table. Call it as
// `api->curl_easy_setopt(h, CURLOPT_URL, url)`: curl's compile-time option type checks
// (typecheck-gcc.h) do not apply through the table, so pass the types curl documents
// (long for numbers, curl_off_t for *_LARGE options).
#pragma once

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "common/dynamic_library.h"
#include "common/error.h"

namespace imaged::remotes {

// clang-format off
#define IMAGED_CURL_API(X)                                                                       \
  X(curl_global_init)                                                                            \
  X(curl_easy_init) X(curl_easy_reset) X(curl_easy_cleanup) X(curl_easy_setopt)                  \
  X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_strerror) X(curl_slist_append)          \
  X(curl_slist_free_all) X(curl_share_init) X(curl_share_setopt) X(curl_share_cleanup)
// clang-format on

struct CurlApi {
  IMAGED_CURL_API(IMAGED_API_MEMBER)
};

// Internal "cannot load libcurl.so.4: ..." when libcurl is not installed (package libcurl4).
Result<const CurlApi*> curl_api();

}  // namespace imaged::remotes
