#include "api/recording_writer.h"

namespace imaged::api {

void RecordingWriter::add_header(std::string name, std::string value) {
  if (!started()) headers.emplace_back(std::move(name), std::move(value));
}

bool RecordingWriter::send(int s, std::string_view ct, std::string b) {
  if (started()) return false;
  status = s;
  content_type = std::string(ct);
  body = std::move(b);
  ended = true;
  return !cancel;
}

bool RecordingWriter::begin_stream(int s, std::string_view ct) {
  if (started()) return false;
  status = s;
  content_type = std::string(ct);
  stream_content_type_ = std::string(ct);
  streaming = true;
  return !cancel;
}

bool RecordingWriter::write(std::string_view data) {
  if (!streaming || ended || cancel) return false;
  if (data.empty()) return true;
  chunks.emplace_back(data);
  body += data;
  return true;
}

bool RecordingWriter::end() {
  if (!streaming) return false;
  ended = true;
  return !cancel;
}

std::string RecordingWriter::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

}  // namespace imaged::api
