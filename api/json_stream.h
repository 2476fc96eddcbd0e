// dockerd-compatible JSON encoding and JSON message streams (pull, push, load, import, events).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace imaged::api {

class ResponseWriter;

// Compact JSON as Go's encoding/json writes it: <, >, & escaped as \u003c \u003e \u0026,
// U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD. No trailing newline.
std::string go_json(const nlohmann::json& value);
std::string go_json(const nlohmann::ordered_json& value);

// The in-stream error message dockerd writes after a stream has started:
// {"errorDetail":{"message":M},"error":M}
nlohmann::ordered_json stream_error_message(std::string_view message);

// One JSON object per message, each flushed as its own chunk, terminated by "\r\n" (dockerd's
// stream formatter for pull/push/load) or "\n" (events). Not thread safe; lives on the handler's
// stack and borrows the writer.
class JsonStream {
 public:
  explicit JsonStream(ResponseWriter& writer, std::string_view terminator = "\r\n");

  // Sends 200 (or `status`) + Content-Type: application/json, chunked, flushed immediately.
  // send() begins implicitly; call begin() when the headers must go out before the first message
  // (events, wait).
  bool begin(int status = 200);
  bool send(const nlohmann::json& message);
  bool send(const nlohmann::ordered_json& message);
  // Writes the in-stream error line (begins the stream if needed).
  bool send_error(std::string_view message);
  // Ends a stream: on success the last chunk; on error, a plain HTTP error when nothing was
  // written yet (status from Errc), else the in-stream error line, then the last chunk.
  bool finish(const Status& status = {});

  bool begun() const { return begun_; }

 private:
  bool write_line(std::string text);

  ResponseWriter& writer_;
  std::string terminator_;
  bool begun_ = false;
};

}  // namespace imaged::api
