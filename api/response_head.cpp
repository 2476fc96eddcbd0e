#include "api/response_head.h"

#include <algorithm>
#include <cctype>

#include "api/http_status.h"

namespace imaged::api {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void append_clean(std::string& out, std::string_view text) {
  for (char c : text)
    if (c != '\r' && c != '\n') out += c;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  append_clean(out, name);
  out += ": ";
  append_clean(out, value);
  out += "\r\n";
}

}  // namespace

std::string render_head(const ResponseHead& head) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(head.status);
  out += ' ';
  out += head.upgrade.empty() ? reason_phrase(head.status) : "UPGRADED";
  out += "\r\n";

  // Last writer wins for a given name; first position is kept.
  HeaderList merged;
  for (const auto& [name, value] : head.headers) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const auto& h) { return iequals(h.first, name); });
    if (it != merged.end())
      it->second = value;
    else
      merged.emplace_back(name, value);
  }
  for (const auto& [name, value] : merged) {
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Connection") || iequals(name, "Content-Type"))
      continue;  // framing is ours
    append_field(out, name, value);
  }
  if (!head.content_type.empty()) append_field(out, "Content-Type", head.content_type);
  bool bodiless =
      (head.status >= 100 && head.status < 200) || head.status == 204 || head.status == 304;
  if (!bodiless) {
    if (head.chunked)
      append_field(out, "Transfer-Encoding", "chunked");
    else
      append_field(out, "Content-Length", std::to_string(head.content_length.value_or(0)));
  }
  if (!head.upgrade.empty()) {
    append_field(out, "Connection", "Upgrade");
    append_field(out, "Upgrade", head.upgrade);
  } else if (!head.keep_alive) {
    append_field(out, "Connection", "close");
  }
  out += "\r\n";
  return out;
}

std::string chunk_size_hex(std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  if (n == 0) return "0";
  std::string out;
  while (n) {
    out.insert(out.begin(), kDigits[n & 0xf]);
    n >>= 4;
  }
  return out;
}

}  // namespace imaged::api
