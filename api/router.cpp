#include "api/router.h"

#include <stdexcept>

#include "api/http_status.h"

namespace imaged::api {

namespace {

// Splits "/v1.41/images/json" into ("1.41", "/images/json"); nullopt when there is no prefix
// matching dockerd's `/v{version:[0-9.]+}` followed by a path.
std::optional<std::pair<std::string_view, std::string_view>> split_version(std::string_view path) {
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return std::nullopt;
  std::size_t i = 2;
  while (i < path.size() && ((path[i] >= '0' && path[i] <= '9') || path[i] == '.')) ++i;
  if (i == 2 || i >= path.size() || path[i] != '/') return std::nullopt;
  return std::pair{path.substr(2, i - 2), path.substr(i)};
}

}  // namespace

void Router::add(Method method, std::string_view pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern[0] != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      auto close = pattern.find('}', i);
      if (close == std::string_view::npos)
        throw std::invalid_argument("unclosed '{' in route pattern: " + std::string(pattern));
      std::string_view var = pattern.substr(i + 1, close - i - 1);
      auto colon = var.find(':');
      std::string name(var.substr(0, colon));
      Token::Kind kind = Token::Segment;
      if (colon != std::string_view::npos) {
        std::string_view re = var.substr(colon + 1);
        if (re == ".*")
          kind = Token::Any;
        else if (re == ".+")
          kind = Token::AnyNonEmpty;
        else if (re == "[^/]+")
          kind = Token::Segment;
        else
          throw std::invalid_argument("unsupported variable regex in route: " +
                                      std::string(pattern));
      }
      if (name.empty())
        throw std::invalid_argument("empty variable name in route: " + std::string(pattern));
      tokens.push_back({kind, std::move(name)});
      i = close + 1;
    } else {
      auto next = pattern.find('{', i);
      if (next == std::string_view::npos) next = pattern.size();
      tokens.push_back({Token::Literal, std::string(pattern.substr(i, next - i))});
      i = next;
    }
  }
  bool literal = tokens.size() == 1 && tokens[0].kind == Token::Literal;
  routes_.push_back(
      Route{method, std::string(pattern), std::move(tokens), literal, std::move(handler), options});
}

bool Router::match_tokens(const std::vector<Token>& tokens, std::size_t ti, std::string_view path,
                          std::size_t pos,
                          std::map<std::string, std::string, std::less<>>& params) {
  if (ti == tokens.size()) return pos == path.size();
  const Token& tok = tokens[ti];
  if (tok.kind == Token::Literal) {
    if (path.substr(pos, tok.text.size()) != tok.text) return false;
    return match_tokens(tokens, ti + 1, path, pos + tok.text.size(), params);
  }
  // A variable: the longest candidate first (greedy, as the regex gorilla compiles).
  std::size_t max_len = path.size() - pos;
  if (tok.kind == Token::Segment) {
    auto slash = path.find('/', pos);
    max_len = (slash == std::string_view::npos ? path.size() : slash) - pos;
  }
  std::size_t min_len = tok.kind == Token::Any ? 0 : 1;
  for (std::size_t len = max_len + 1; len-- > min_len;) {
    if (match_tokens(tokens, ti + 1, path, pos + len, params)) {
      params[tok.text] = std::string(path.substr(pos, len));
      return true;
    }
  }
  return false;
}

Result<Router::Match> Router::match(Method method, std::string_view raw_path) const {
  auto decoded = IMAGED_TRY(percent_decode(raw_path, false));
  std::string_view path = decoded;
  std::string_view version_text;
  bool versioned = false;
  if (auto split = split_version(path)) {
    version_text = split->first;
    path = split->second;
    versioned = true;
  }

  const Route* found = nullptr;
  std::map<std::string, std::string, std::less<>> params;
  for (const auto& route : routes_) {
    if (route.literal && route.method == method && route.tokens[0].text == path) {
      found = &route;
      break;
    }
  }
  if (!found) {
    for (const auto& route : routes_) {
      if (route.literal || route.method != method) continue;
      params.clear();
      if (match_tokens(route.tokens, 0, path, 0, params)) {
        found = &route;
        break;
      }
    }
  }
  if (!found) return fail(Errc::NotFound, "page not found");

  Match m;
  m.versioned = versioned;
  if (versioned) m.version = IMAGED_TRY(check_api_version(version_text));
  m.handler = found->handler;
  m.params = std::move(params);
  m.path = std::string(path);
  m.body_limit = found->options.body_limit;
  m.pattern = found->pattern;
  return m;
}

Router::Match Router::resolve(Method method, std::string_view raw_path) const {
  auto m = match(method, raw_path);
  if (m) return std::move(*m);
  Match out;
  Error err = m.error();
  // Versions below 1.24 predate JSON errors: moby answers them with text/plain (http.Error).
  auto split = split_version(raw_path);
  bool plain_text = err.code == Errc::InvalidArgument && split &&
                    ApiVersion::parse(split->first) < kMinApiVersion;
  if (plain_text) {
    out.handler = [msg = err.message](Request&, ResponseWriter& w) {
      w.add_header("X-Content-Type-Options", "nosniff");
      w.text(400, msg + "\n");
    };
  } else {
    out.handler = [err](Request&, ResponseWriter& w) { w.error(err); };
  }
  return out;
}

}  // namespace imaged::api
