// WWW-Authenticate parsing (RFC 7235 §4.1, after containerd's auth/parse.go): one header value
// may carry several challenges; parameters are token or quoted-string values, separated by
// commas. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace imaged::remotes {

enum class AuthScheme { Basic, Bearer, Other };

struct Challenge {
  AuthScheme scheme = AuthScheme::Other;
  std::string scheme_name;                    // lower-case, e.g. "bearer", "digest"
  std::map<std::string, std::string> params;  // names lower-cased; values unquoted/unescaped
  std::string token68;                        // the rare "Scheme token68" form

  // The value of a parameter, "" when absent.
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// Parses every challenge of one header value, in order. Malformed trailing input ends parsing
// (challenges already parsed are kept), as browsers and Go clients do.
std::vector<Challenge> parse_challenges(std::string_view header_value);

// All challenges of several WWW-Authenticate header values, Bearer ones first, then Basic, then
// others (the order in which a client should prefer them), each group in header order.
std::vector<Challenge> parse_challenges(const std::vector<std::string>& header_values);

}  // namespace imaged::remotes
