// A raw HTTP/1.1 connection over a Unix socket for tests that need byte-level control
// (pipelining, partial writes, watching chunks arrive, closing mid-request).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace imaged::testing {

class RawHttp {
 public:
  // Connects to the Unix socket; throws std::runtime_error on failure.
  explicit RawHttp(const std::filesystem::path& socket);
  ~RawHttp();
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;

  void send(const std::string& bytes);
  // Reads until `needle` appears in everything received so far (returned whole), or the
  // timeout passes / the peer closes (returns what arrived; check with contains).
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout);
  // Reads one complete response (headers + Content-Length or chunked body) from the stream.
  // nullopt on timeout or close before completion.
  std::optional<std::string> read_response(std::chrono::milliseconds timeout);
  // True when the peer closed the connection (read returns 0) within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  // Half-closes: no more bytes from this side (shutdown SHUT_WR); reading goes on.
  void shutdown_write();
  void close();

 private:
  bool fill(std::chrono::milliseconds timeout);  // one read; false on timeout/EOF

  int fd_ = -1;
  std::string buffer_;  // received and not yet returned by read_response
  bool eof_ = false;
};

// Status code of a raw response ("HTTP/1.1 404 Not Found" → 404), 0 if unparsable.
int status_of(const std::string& response);
// The (first) value of a header in a raw response, case-insensitive; "" if absent.
std::string header_of(const std::string& response, const std::string& name);
// The body of a raw response (de-chunked when chunked).
std::string body_of(const std::string& response);

}  // namespace imaged::testing
