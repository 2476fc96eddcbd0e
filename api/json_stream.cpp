#include "api/json_stream.h"

#include <nlohmann/json.hpp>

#include "api/response_writer.h"

namespace imaged::api {

namespace {

// Applies Go's extra escapes to compact JSON text. '<', '>' and '&' can only occur inside
// strings in JSON text, so replacing them everywhere is exact.
std::string go_escape(std::string text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '\xE2':
        // U+2028 / U+2029 are E2 80 A8 / E2 80 A9 in UTF-8.
        if (i + 2 < text.size() && text[i + 1] == '\x80' &&
            (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
          out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
          i += 2;
          break;
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string go_json(const nlohmann::json& value) {
  return go_escape(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string go_json(const nlohmann::ordered_json& value) {
  return go_escape(value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

nlohmann::ordered_json stream_error_message(std::string_view message) {
  nlohmann::ordered_json detail;
  detail["message"] = message;
  nlohmann::ordered_json out;
  out["errorDetail"] = std::move(detail);
  out["error"] = message;
  return out;
}

JsonStream::JsonStream(ResponseWriter& writer, std::string_view terminator)
    : writer_(writer), terminator_(terminator) {}

bool JsonStream::begin(int status) {
  if (begun_) return !writer_.canceled();
  begun_ = true;
  return writer_.begin_stream(status, kJsonContentType);
}

bool JsonStream::write_line(std::string text) {
  if (!begun_ && !begin()) return false;
  text += terminator_;
  return writer_.write(text);
}

bool JsonStream::send(const nlohmann::json& message) { return write_line(go_json(message)); }

bool JsonStream::send(const nlohmann::ordered_json& message) {
  return write_line(go_json(message));
}

bool JsonStream::send_error(std::string_view message) {
  return write_line(go_json(stream_error_message(message)));
}

bool JsonStream::finish(const Status& status) {
  if (!status) {
    if (!begun_) return writer_.error(status.error());
    send_error(status.error().message);
  }
  if (!begun_ && !begin()) return false;
  return writer_.end();
}

}  // namespace imaged::api
