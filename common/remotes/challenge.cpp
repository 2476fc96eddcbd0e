#include "common/remotes/challenge.h"

#include <algorithm>
#include <cctype>

namespace imaged::remotes {

namespace {

// RFC 7230 tchar.
bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  std::vector<Challenge> run() {
    std::vector<Challenge> out;
    for (;;) {
      skip_ws_and_commas();
      if (at_end()) break;
      std::string_view scheme = token();
      if (scheme.empty()) break;  // garbage
      Challenge c;
      c.scheme_name = lower(scheme);
      c.scheme = c.scheme_name == "basic"    ? AuthScheme::Basic
                 : c.scheme_name == "bearer" ? AuthScheme::Bearer
                                             : AuthScheme::Other;
      if (!parse_params(c)) {
        out.push_back(std::move(c));
        break;
      }
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  void skip_ws() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void skip_ws_and_commas() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string_view token() {
    size_t start = i_;
    while (!at_end() && is_tchar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // A quoted-string after the opening quote was seen; false if unterminated.
  bool quoted(std::string& out) {
    ++i_;  // opening quote
    while (!at_end()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\' && !at_end()) c = s_[i_++];
      out += c;
    }
    return false;
  }

  // Is there "token OWS =" (not "==") at the current position? Does not move.
  bool param_ahead() {
    size_t save = i_;
    std::string_view t = token();
    skip_ws();
    bool yes = !t.empty() && peek() == '=' && !(i_ + 1 < s_.size() && s_[i_ + 1] == '=');
    i_ = save;
    return yes;
  }

  // Parses "[ token68 | #auth-param ]" after a scheme. Returns false on malformed input.
  bool parse_params(Challenge& c) {
    skip_ws();
    if (at_end() || peek() == ',') return true;  // no parameters
    if (!param_ahead()) {
      // token68, or a bare next scheme (which the outer loop handles: we consume nothing).
      size_t start = i_;
      while (!at_end() && is_token68_char(s_[i_])) ++i_;
      while (!at_end() && s_[i_] == '=') ++i_;
      skip_ws();
      if (at_end() || peek() == ',') {
        c.token68 = std::string(s_.substr(start, i_ - start));
        while (!c.token68.empty() && (c.token68.back() == ' ' || c.token68.back() == '\t'))
          c.token68.pop_back();
        return true;
      }
      i_ = start;  // "Basic Bearer ..." is malformed; let the caller stop
      return false;
    }
    for (;;) {
      std::string name = lower(token());
      skip_ws();
      if (peek() != '=') return false;
      ++i_;
      skip_ws();
      std::string value;
      if (peek() == '"') {
        if (!quoted(value)) return false;
      } else {
        value = std::string(token());
      }
      c.params[name] = std::move(value);
      skip_ws();
      if (at_end()) return true;
      if (peek() != ',') return false;
      // After a comma: another parameter of this challenge, or the next challenge.
      size_t save = i_;
      skip_ws_and_commas();
      if (at_end()) return true;
      if (!param_ahead()) {
        i_ = save;
        return true;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::vector<Challenge> parse_challenges(std::string_view header_value) {
  return Parser(header_value).run();
}

std::vector<Challenge> parse_challenges(const std::vector<std::string>& header_values) {
  std::vector<Challenge> all;
  for (const auto& v : header_values)
    for (auto& c : parse_challenges(v)) all.push_back(std::move(c));
  auto rank = [](const Challenge& c) {
    return c.scheme == AuthScheme::Bearer ? 0 : c.scheme == AuthScheme::Basic ? 1 : 2;
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const Challenge& a, const Challenge& b) { return rank(a) < rank(b); });
  return all;
}

}  // namespace imaged::remotes
