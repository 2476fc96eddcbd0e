#include "api/http_status.h"

#include <catch2/catch.hpp>

#include "api/recording_writer.h"

using imaged::Errc;
using imaged::Error;
using imaged::api::http_status;

TEST_CASE("http status: every Errc maps as dockerd's httpstatus", "[api]") {
  CHECK(http_status(Errc::InvalidArgument) == 400);
  CHECK(http_status(Errc::FailedPrecondition) == 400);
  CHECK(http_status(Errc::Unauthenticated) == 401);
  CHECK(http_status(Errc::PermissionDenied) == 403);
  CHECK(http_status(Errc::NotFound) == 404);
  CHECK(http_status(Errc::AlreadyExists) == 409);
  CHECK(http_status(Errc::Conflict) == 409);
  CHECK(http_status(Errc::ResourceExhausted) == 413);
  CHECK(http_status(Errc::Unimplemented) == 501);
  CHECK(http_status(Errc::Unavailable) == 503);
  CHECK(http_status(Errc::DeadlineExceeded) == 500);
  CHECK(http_status(Errc::Canceled) == 500);
  CHECK(http_status(Errc::DataLoss) == 500);
  CHECK(http_status(Errc::Internal) == 500);
}

TEST_CASE("http status: error bodies are {\"message\"} plus a newline", "[api]") {
  CHECK(imaged::api::error_body("No such image: nosuch:tag") ==
        "{\"message\":\"No such image: nosuch:tag\"}\n");
  CHECK(imaged::api::error_body("a <b> & \"c\"") ==
        "{\"message\":\"a \\u003cb\\u003e \\u0026 \\\"c\\\"\"}\n");
}

TEST_CASE("http status: ResponseWriter::error writes status, exact content type, body", "[api]") {
  imaged::api::RecordingWriter w;
  w.error(Error{Errc::NotFound, "No such image: x"});
  CHECK(w.status == 404);
  CHECK(w.content_type == "application/json");
  CHECK(w.body == "{\"message\":\"No such image: x\"}\n");
}
