#include "tests/api/raw_http.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace imaged::testing {

namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Length of the complete response at the start of `data`, or npos if incomplete.
std::size_t complete_length(const std::string& data) {
  auto head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::string::npos;
  std::string head = data.substr(0, head_end + 4);
  std::size_t body_start = head_end + 4;
  int status = status_of(head);
  if (status == 204 || status == 304 || (status >= 100 && status < 200)) return body_start;
  std::string te = lower(header_of(head, "Transfer-Encoding"));
  if (te.find("chunked") != std::string::npos) {
    std::size_t pos = body_start;
    for (;;) {
      auto line_end = data.find("\r\n", pos);
      if (line_end == std::string::npos) return std::string::npos;
      std::size_t size = std::stoul(data.substr(pos, line_end - pos), nullptr, 16);
      pos = line_end + 2;
      if (size == 0) {
        auto trailer_end = data.find("\r\n", pos);
        if (trailer_end == std::string::npos) return std::string::npos;
        return trailer_end + 2;
      }
      if (data.size() < pos + size + 2) return std::string::npos;
      pos += size + 2;
    }
  }
  std::string cl = header_of(head, "Content-Length");
  std::size_t len = cl.empty() ? 0 : std::stoul(cl);
  if (data.size() < body_start + len) return std::string::npos;
  return body_start + len;
}

}  // namespace

RawHttp::RawHttp(const std::filesystem::path& socket) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to " + socket.string());
  }
}

RawHttp::~RawHttp() { close(); }

void RawHttp::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void RawHttp::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawHttp::send(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    off += static_cast<std::size_t>(n);
  }
}

bool RawHttp::fill(std::chrono::milliseconds timeout) {
  if (eof_ || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string RawHttp::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !fill(left)) break;
  }
  return buffer_;
}

std::optional<std::string> RawHttp::read_response(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    std::size_t len = complete_length(buffer_);
    if (len != std::string::npos) {
      std::string out = buffer_.substr(0, len);
      buffer_.erase(0, len);
      return out;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !fill(left)) return std::nullopt;
  }
}

bool RawHttp::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    fill(left);
  }
  return true;
}

int status_of(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string header_of(const std::string& response, const std::string& name) {
  auto head_end = response.find("\r\n\r\n");
  std::string head = lower(response.substr(0, head_end));
  std::string key = "\r\n" + lower(name) + ":";
  auto pos = head.find(key);
  if (pos == std::string::npos) return "";
  pos += key.size();
  auto end = response.find("\r\n", pos);
  std::string value = response.substr(pos, end - pos);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

std::string body_of(const std::string& response) {
  auto head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) return "";
  std::string body = response.substr(head_end + 4);
  if (lower(header_of(response, "Transfer-Encoding")).find("chunked") == std::string::npos)
    return body;
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    auto line_end = body.find("\r\n", pos);
    if (line_end == std::string::npos) break;
    std::size_t size = std::stoul(body.substr(pos, line_end - pos), nullptr, 16);
    if (size == 0) break;
    out += body.substr(line_end + 2, size);
    pos = line_end + 2 + size + 2;
  }
  return out;
}

}  // namespace imaged::testing
