#include "common/remotes/http.h"

#include <algorithm>
#include <cctype>

namespace imaged::remotes {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(items_, [&](const auto& kv) { return iequals(kv.first, name); });
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) out.push_back(v);
  return out;
}

Error TransportError::to_error() const {
  if (cause) return *cause;
  switch (kind) {
    case FailureKind::Canceled:
      return Error{Errc::Canceled, message};
    case FailureKind::Timeout:
    case FailureKind::Stall:
      return Error{Errc::DeadlineExceeded, message};
    default:
      return Error{Errc::Unavailable, message};
  }
}

std::string go_method_name(std::string_view method) {
  std::string out = lower(method);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::optional<UrlParts> split_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  UrlParts p;
  p.scheme = lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  p.host = lower(rest.substr(0, end));
  if (p.host.empty()) return std::nullopt;
  if (auto at = p.host.rfind('@'); at != std::string::npos) p.host = p.host.substr(at + 1);
  std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  p.target =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  // Default ports name the same origin as no port.
  if (p.scheme == "https" && p.host.ends_with(":443")) p.host.resize(p.host.size() - 4);
  if (p.scheme == "http" && p.host.ends_with(":80")) p.host.resize(p.host.size() - 3);
  return p;
}

bool same_origin(std::string_view a, std::string_view b) {
  auto pa = split_url(a), pb = split_url(b);
  return pa && pb && pa->scheme == pb->scheme && pa->host == pb->host;
}

std::string resolve_location(std::string_view base_url, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  auto base = split_url(base_url);
  if (!base) return std::string(location);
  if (location.starts_with("//")) return base->scheme + ":" + std::string(location);
  if (location.starts_with("/")) return base->scheme + "://" + base->host + std::string(location);
  std::string dir = base->target.substr(0, base->target.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return base->scheme + "://" + base->host + dir + std::string(location);
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string add_query(std::string url, std::string_view key, std::string_view value) {
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += url_encode(key);
  url += '=';
  url += url_encode(value);
  return url;
}

}  // namespace imaged::remotes
