// Request: what a handler sees. Built by the connection on its strand, then handed to a worker
// thread; plain data plus a blocking BodyReader. No Beast types here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_version.h"
#include "api/query.h"
#include "common/error.h"

namespace imaged::api {

enum class Method { Get, Head, Post, Put, Delete, Patch, Options, Other };

std::string_view to_string(Method method);
Method parse_method(std::string_view text);  // "GET" → Get; unknown → Other

// Request headers in arrival order; lookups are case-insensitive.
class Headers {
 public:
  void add(std::string name, std::string value);
  // The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// A blocking reader of the request body (chunked bodies arrive de-chunked). Used from the
// handler's worker thread only.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to out.size() bytes; 0 means the body is complete. Errors: ResourceExhausted when
  // the route's body limit is exceeded (→ 413), DeadlineExceeded when the client stalls past the
  // body read timeout, Canceled when the client went away or the server is force-closing,
  // InvalidArgument on a malformed (e.g. chunked) encoding.
  virtual Result<std::size_t> read(std::span<char> out) = 0;
};

// Reads and drops what the client still sends (at most 4 GiB), so that after refusing an upload
// the client reads the answer rather than a broken pipe.
void drain_body(BodyReader& body);

// A BodyReader over a string (tests, and requests with no body).
class StringBodyReader final : public BodyReader {
 public:
  explicit StringBodyReader(std::string data = {}) : data_(std::move(data)) {}
  Result<std::size_t> read(std::span<char> out) override;

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

struct Request {
  Method method = Method::Get;
  std::string target;  // as received: "/v1.41/images/json?all=1"
  std::string path;    // percent-decoded, version prefix removed: "/images/json"
  std::map<std::string, std::string, std::less<>> params;  // path parameters: {name} → value
  QueryParams query;
  Headers headers;
  ApiVersion version = kMaxApiVersion;  // the request's version (max when unversioned)
  bool versioned = false;               // true when the path had a /vX.Y prefix
  // The declared body size (Content-Length), nullopt when chunked or absent.
  std::optional<std::uint64_t> content_length;
  BodyReader* body = nullptr;  // never null for requests given to handlers

  // The path parameter `name` ("" when absent).
  std::string_view param(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }

  // Reads the whole body (within the route's limit; ResourceExhausted beyond it).
  Result<std::string> read_body() const;
  // Reads the whole body and parses it as JSON. An empty body → `null`. Malformed JSON →
  // InvalidArgument (400) with the parser's message.
  Result<nlohmann::json> json_body() const;
};

}  // namespace imaged::api
