#include "api/response_writer.h"

#include <nlohmann/json.hpp>

#include "api/http_status.h"
#include "api/json_stream.h"

namespace imaged::api {

bool ResponseWriter::json(int status, const nlohmann::json& body) {
  return send(status, kJsonContentType, go_json(body) + "\n");
}

bool ResponseWriter::json(int status, const nlohmann::ordered_json& body) {
  return send(status, kJsonContentType, go_json(body) + "\n");
}

bool ResponseWriter::json_text(int status, std::string body) {
  if (body.empty() || body.back() != '\n') body += '\n';
  return send(status, kJsonContentType, std::move(body));
}

bool ResponseWriter::error(const Error& err) {
  if (!started()) return send(http_status(err.code), kJsonContentType, error_body(err.message));
  if (stream_content_type_ == kJsonContentType) {
    write(go_json(stream_error_message(err.message)) + "\r\n");
    return end();
  }
  abort();
  return false;
}

Result<ResponseWriter::RawStream> ResponseWriter::upgrade(std::string_view) {
  return fail(Errc::Unimplemented, "this connection cannot switch protocols");
}

bool ResponseWriter::empty(int status) { return send(status, {}, {}); }

bool ResponseWriter::text(int status, std::string_view body, std::string_view content_type) {
  return send(status, content_type, std::string(body));
}

}  // namespace imaged::api
