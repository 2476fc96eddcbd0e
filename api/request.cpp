#include "api/request.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

namespace imaged::api {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string_view to_string(Method method) {
  switch (method) {
    case Method::Get:
      return "GET";
    case Method::Head:
      return "HEAD";
    case Method::Post:
      return "POST";
    case Method::Put:
      return "PUT";
    case Method::Delete:
      return "DELETE";
    case Method::Patch:
      return "PATCH";
    case Method::Options:
      return "OPTIONS";
    case Method::Other:
      return "OTHER";
  }
  return "OTHER";
}

Method parse_method(std::string_view text) {
  if (text == "GET") return Method::Get;
  if (text == "HEAD") return Method::Head;
  if (text == "POST") return Method::Post;
  if (text == "PUT") return Method::Put;
  if (text == "DELETE") return Method::Delete;
  if (text == "PATCH") return Method::Patch;
  if (text == "OPTIONS") return Method::Options;
  return Method::Other;
}

void Headers::add(std::string name, std::string value) {
  items_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

Result<std::size_t> StringBodyReader::read(std::span<char> out) {
  std::size_t n = std::min(out.size(), data_.size() - offset_);
  std::memcpy(out.data(), data_.data() + offset_, n);
  offset_ += n;
  return n;
}

void drain_body(BodyReader& body) {
  std::vector<char> sink(64 * 1024);
  for (int i = 0; i < 1 << 16; ++i) {
    auto n = body.read(sink);
    if (!n || *n == 0) break;
  }
}

std::string_view Request::param(std::string_view name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string_view{} : std::string_view(it->second);
}

Result<std::string> Request::read_body() const {
  std::string out;
  if (!body) return out;
  if (content_length)
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*content_length, 1 << 20)));
  char buf[16384];
  for (;;) {
    auto n = IMAGED_TRY(body->read(buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

Result<nlohmann::json> Request::json_body() const {
  auto text = IMAGED_TRY(read_body());
  if (text.empty()) return nlohmann::json();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(Errc::InvalidArgument, std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace imaged::api
