// The status line and header block of a response, rendered as bytes (no Beast: the session writes
// them with one buffer-sequence type, which keeps session.cpp cheap to compile).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imaged::api {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ResponseHead {
  int status = 200;
  // In order; a later entry replaces an earlier one with the same name (case-insensitive), so
  // handler headers override the common ones.
  HeaderList headers;
  std::string content_type;                   // "" = none
  std::optional<std::size_t> content_length;  // set for complete responses
  bool chunked = false;                       // streaming responses
  bool keep_alive = true;                     // false → "Connection: close"
  // A protocol switch (status 101): "Connection: Upgrade" and "Upgrade: <upgrade>", with
  // dockerd's reason phrase "UPGRADED"; keep_alive is then ignored.
  std::string upgrade;
};

// "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n". CR and LF inside names or values are dropped
// (no header injection). Statuses 1xx/204/304 never get Content-Length or Transfer-Encoding.
std::string render_head(const ResponseHead& head);

// "1a2b" – the chunk-size line of chunked encoding, without CRLF.
std::string chunk_size_hex(std::size_t n);

}  // namespace imaged::api
