// ResponseWriter: how a handler answers. Called from the handler's worker thread (never from an
// I/O thread); the connection implementation bridges each call to the connection's strand and
// blocks the worker until the bytes are handed to the socket (that is the backpressure: a slow
// client slows its handler, never the daemon).
//
// Exactly one response per request: either one send() (or a convenience built on it), or
// begin_stream() + write()* + end(). Every primitive returns false once the client is gone or the
// server is force-closing (see canceled()); handlers should then stop producing and return.
//
// Thread safety: one handler thread at a time uses a writer; canceled() may be read from any
// thread.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "common/content/fd.h"
#include "common/error.h"

namespace imaged::api {

inline constexpr std::string_view kJsonContentType = "application/json";  // exactly, no charset
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // ---- primitives (the connection implements them; RecordingWriter in tests) ----

  // Adds a header to the response that has not started yet (ignored afterwards). The server adds
  // the common Engine headers (Api-Version, Server, ...) itself.
  virtual void add_header(std::string name, std::string value) = 0;
  // Sends a complete response with Content-Length. Before writing, the server consumes what the
  // client still sends of the request body (bounded), so the connection stays usable.
  // An empty content_type sends no Content-Type header.
  virtual bool send(int status, std::string_view content_type, std::string body) = 0;
  // Sends the status line and headers now (Transfer-Encoding: chunked) and flushes them.
  virtual bool begin_stream(int status, std::string_view content_type) = 0;
  // Writes one chunk and flushes it. Empty data is a no-op (an empty chunk would end the body).
  virtual bool write(std::string_view data) = 0;
  // Writes the last chunk. Idempotent.
  virtual bool end() = 0;
  // Drops the connection without completing the body, so the client sees a truncated transfer
  // (for failures in the middle of a non-JSON stream, e.g. a tar for `docker save`).
  virtual void abort() = 0;

  // A connection switched to a raw byte stream.
  struct RawStream {
    content::UniqueFd fd;  // a duplicate of the socket, in blocking mode
    std::string pending;   // bytes the client sent after the request, already read
  };
  // Switches the connection to a raw stream as dockerd's attach does: sends
  // "HTTP/1.1 101 UPGRADED" with `content_type`, "Connection: Upgrade" and "Upgrade: tcp", then
  // hands the socket over. The connection is closed when the handler returns; a server stop
  // shuts the socket down (a blocked read on `fd` returns). Errors: Canceled when the client is
  // gone; Unimplemented for writers that cannot (the base version).
  virtual Result<RawStream> upgrade(std::string_view content_type);

  // True once send(), begin_stream() or upgrade() happened.
  virtual bool started() const = 0;
  // True when the client went away or the server is force-closing: stop producing.
  virtual bool canceled() const = 0;
  // True once the server began a graceful stop. Long-lived streams (events) should end now;
  // finite work (a pull) may go on until the grace period ends (then canceled() turns true).
  virtual bool stopping() const { return false; }
  // Calls `fn` once when canceled() or stopping() becomes true, or right away (on this thread)
  // if one already is; for handlers that block on a condition variable:
  //   auto guard = w.on_interrupt([&] { std::lock_guard l(mu); cv.notify_all(); });
  //   std::unique_lock lock(mu);
  //   cv.wait(lock, [&] { return have_events || w.canceled() || w.stopping(); });
  // `fn` runs on an I/O thread or the thread stopping the server: it must not block, call back
  // into the writer, or take a lock that is held while on_interrupt() is called. It is dropped
  // when the returned handle dies or the handler returns.
  using InterruptHandle = std::shared_ptr<void>;
  // The base version (for test doubles) never calls fn.
  [[nodiscard]] virtual InterruptHandle on_interrupt(std::function<void()> fn) {
    (void)fn;
    return nullptr;
  }

  // ---- conveniences ----

  // A JSON body (Go escaping, trailing newline as Go's encoder) with Content-Type exactly
  // application/json.
  bool json(int status, const nlohmann::json& body);
  bool json(int status, const nlohmann::ordered_json& body);
  // Already-encoded JSON text (a trailing newline is added when missing).
  bool json_text(int status, std::string body);
  // The error response: status from http_status(err.code), body {"message":"..."}\n.
  // If a stream has already begun: a JSON stream gets the in-stream error line
  // {"errorDetail":{"message":M},"error":M} and is ended; any other stream is aborted.
  bool error(const Error& err);
  // No body, no Content-Type (201 for tag, 204 for deletes...).
  bool empty(int status);
  bool text(int status, std::string_view body, std::string_view content_type = kTextContentType);

 protected:
  // Content type of the stream begun, for error(); set by implementations in begin_stream().
  std::string stream_content_type_;
};

}  // namespace imaged::api
