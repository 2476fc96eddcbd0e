#include "api/response_head.h"

#include <catch2/catch.hpp>

using imaged::api::chunk_size_hex;
using imaged::api::render_head;
using imaged::api::ResponseHead;

TEST_CASE("response head: a complete JSON response", "[api]") {
  ResponseHead h{.status = 404,
                 .headers = {{"Api-Version", "1.50"}, {"Ostype", "linux"}},
                 .content_type = "application/json",
                 .content_length = 29};
  CHECK(render_head(h) ==
        "HTTP/1.1 404 Not Found\r\nApi-Version: 1.50\r\nOstype: linux\r\nContent-Type: "
        "application/json\r\nContent-Length: 29\r\n\r\n");
}

TEST_CASE("response head: a stream that closes the connection", "[api]") {
  ResponseHead h{
      .status = 200, .content_type = "application/json", .chunked = true, .keep_alive = false};
  CHECK(render_head(h) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: "
        "chunked\r\nConnection: close\r\n\r\n");
}

TEST_CASE("response head: later headers replace earlier ones, framing stays ours", "[api]") {
  ResponseHead h{.status = 204,
                 .headers = {{"Server", "a"}, {"server", "b"}, {"Content-Length", "99"}}};
  CHECK(render_head(h) == "HTTP/1.1 204 No Content\r\nServer: b\r\n\r\n");
}

TEST_CASE("response head: CR and LF cannot inject headers", "[api]") {
  ResponseHead h{.status = 200, .headers = {{"X-A", "v\r\nX-Evil: 1"}}, .content_length = 0};
  CHECK(render_head(h) == "HTTP/1.1 200 OK\r\nX-A: vX-Evil: 1\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("response head: chunk sizes in hex", "[api]") {
  CHECK(chunk_size_hex(0) == "0");
  CHECK(chunk_size_hex(10) == "a");
  CHECK(chunk_size_hex(65536) == "10000");
}
