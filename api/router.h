// Router: the route table and the `/vX.Y/` prefix, handled once for every route.
//
// Matching follows gorilla/mux as dockerd registers its routes: literal routes (no variables)
// are tried first, then patterns in registration order; the first route whose path AND method
// match wins. A path that matches no route, or matches only with another method, is
// 404 {"message":"page not found"} (dockerd maps 405 to that too). HEAD matches only routes
// registered for HEAD (dockerd registers HEAD for /_ping only).
//
// Versions: "/v1.41/images/json" and "/images/json" reach the same route; unversioned requests
// are served as kMaxApiVersion. The version is checked after the route matched (as dockerd's
// middleware), so "/v1.99/nosuch" is a 404 and "/v1.99/version" a 400. Versions below 1.24 get
// dockerd's text/plain error (moby answers plain text below 1.24).
//
// Thread safety: add() during startup only; match()/resolve() are const and thread safe.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/request.h"
#include "api/response_writer.h"
#include "common/error.h"

namespace imaged::api {

// A blocking handler run on a worker thread. It must answer through the writer (a handler that
// returns without answering gets a 500; one that throws gets a 500 JSON, or an in-stream error).
using Handler = std::function<void(Request&, ResponseWriter&)>;

inline constexpr std::uint64_t kDefaultBodyLimit = 1 << 20;  // 1 MiB
inline constexpr std::uint64_t kUnlimitedBody = std::numeric_limits<std::uint64_t>::max();

struct RouteOptions {
  // Bytes of request body this route accepts (after de-chunking). Streaming routes such as
  // POST /images/load use kUnlimitedBody and read the body incrementally with Request::body.
  std::uint64_t body_limit = kDefaultBodyLimit;
};

class Router {
 public:
  struct Match {
    Handler handler;
    std::map<std::string, std::string, std::less<>> params;
    std::string path;  // decoded, prefix removed
    ApiVersion version = kMaxApiVersion;
    bool versioned = false;
    std::uint64_t body_limit = kDefaultBodyLimit;
    std::string pattern;  // the route's pattern, for logs ("" for built-in error answers)
  };

  // Registers `pattern` for `method`. Pattern syntax (gorilla/mux's, reduced to what dockerd
  // uses): literal text; {var} = one non-empty segment without '/'; {var:.*} = any text, '/'
  // included, possibly empty; {var:.+} = the same, non-empty. Throws std::invalid_argument on a
  // malformed pattern (a programming error, found at startup).
  void add(Method method, std::string_view pattern, Handler handler, RouteOptions options = {});

  // Matches a raw (still percent-encoded) path. Errors: NotFound "page not found";
  // InvalidArgument for a bad escape or a version outside [1.24, 1.50] (dockerd's messages).
  Result<Match> match(Method method, std::string_view raw_path) const;

  // match(), with every error turned into a handler that writes it, so the connection can treat
  // all requests alike. Error answers accept no request body beyond the default limit.
  Match resolve(Method method, std::string_view raw_path) const;

  std::size_t size() const { return routes_.size(); }

 private:
  struct Token {
    enum Kind { Literal, Segment, Any, AnyNonEmpty } kind;
    std::string text;  // literal text or variable name
  };
  struct Route {
    Method method;
    std::string pattern;
    std::vector<Token> tokens;
    bool literal;
    Handler handler;
    RouteOptions options;
  };

  static bool match_tokens(const std::vector<Token>& tokens, std::size_t ti, std::string_view path,
                           std::size_t pos,
                           std::map<std::string, std::string, std::less<>>& params);

  std::vector<Route> routes_;
};

}  // namespace imaged::api
