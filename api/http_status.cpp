#include "api/http_status.h"

#include <nlohmann/json.hpp>

#include "api/json_stream.h"

namespace imaged::api {

int http_status(Errc code) {
  switch (code) {
    case Errc::InvalidArgument:
    case Errc::FailedPrecondition:
      return 400;
    case Errc::Unauthenticated:
      return 401;
    case Errc::PermissionDenied:
      return 403;
    case Errc::NotFound:
      return 404;
    case Errc::AlreadyExists:
    case Errc::Conflict:
      return 409;
    case Errc::ResourceExhausted:
      return 413;
    case Errc::Unimplemented:
      return 501;
    case Errc::Unavailable:
      return 503;
    case Errc::DeadlineExceeded:
    case Errc::Canceled:
    case Errc::DataLoss:
    case Errc::Internal:
      return 500;
  }
  return 500;
}

int registry_error_status(Errc code) {
  switch (code) {
    case Errc::InvalidArgument:
    case Errc::Unauthenticated:
    case Errc::PermissionDenied:
      return http_status(code);
    default:
      return 500;
  }
}

std::string error_body(std::string_view message) {
  return go_json(nlohmann::json{{"message", message}}) + "\n";
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace imaged::api
