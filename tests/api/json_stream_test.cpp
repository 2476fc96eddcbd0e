#include "api/json_stream.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/recording_writer.h"

using imaged::Errc;
using imaged::Error;
using imaged::api::go_json;
using imaged::api::JsonStream;
using imaged::api::RecordingWriter;

TEST_CASE("json stream: Go's escaping of <, >, & and line separators", "[api]") {
  nlohmann::ordered_json j;
  j["progress"] = "[=>   ]  1kB/2kB & more <x>";
  j["sep"] = "a\u2028b\u2029c";
  CHECK(go_json(j) ==
        "{\"progress\":\"[=\\u003e   ]  1kB/2kB \\u0026 more \\u003cx\\u003e\",\"sep\":"
        "\"a\\u2028b\\u2029c\"}");
}

TEST_CASE("json stream: invalid UTF-8 is replaced, not thrown", "[api]") {
  nlohmann::json j = std::string("bad \xff byte");
  CHECK(go_json(j) == "\"bad \xEF\xBF\xBD byte\"");
}

TEST_CASE("json stream: each message is one chunk ending in CRLF", "[api]") {
  RecordingWriter w;
  JsonStream s(w);
  CHECK(s.send(nlohmann::ordered_json{{"status", "Pulling from library/busybox"}, {"id", "musl"}}));
  CHECK(s.send(nlohmann::ordered_json{{"status", "Digest: sha256:ab"}}));
  CHECK(s.finish());
  CHECK(w.status == 200);
  CHECK(w.content_type == "application/json");
  REQUIRE(w.chunks.size() == 2);
  CHECK(w.chunks[0] == "{\"status\":\"Pulling from library/busybox\",\"id\":\"musl\"}\r\n");
  CHECK(w.chunks[1] == "{\"status\":\"Digest: sha256:ab\"}\r\n");
  CHECK(w.ended);
}

TEST_CASE("json stream: an error before any output is a plain HTTP error", "[api]") {
  RecordingWriter w;
  JsonStream s(w);
  s.finish(imaged::fail(Errc::NotFound, "manifest unknown"));
  CHECK(w.status == 404);
  CHECK_FALSE(w.streaming);
  CHECK(w.body == "{\"message\":\"manifest unknown\"}\n");
}

TEST_CASE("json stream: an error after output is an in-stream errorDetail line", "[api]") {
  RecordingWriter w;
  JsonStream s(w);
  s.send(nlohmann::json{{"status", "Preparing"}});
  s.finish(imaged::fail(Errc::Unauthenticated, "denied: <auth>"));
  CHECK(w.status == 200);
  REQUIRE(w.chunks.size() == 2);
  CHECK(w.chunks[1] ==
        "{\"errorDetail\":{\"message\":\"denied: \\u003cauth\\u003e\"},\"error\":\"denied: "
        "\\u003cauth\\u003e\"}\r\n");
  CHECK(w.ended);
}

TEST_CASE("json stream: begin flushes headers before the first message", "[api]") {
  RecordingWriter w;
  JsonStream s(w, "\n");
  CHECK(s.begin());
  CHECK(w.streaming);
  CHECK(w.chunks.empty());
  s.send(nlohmann::json{{"Type", "image"}});
  CHECK(w.chunks.at(0) == "{\"Type\":\"image\"}\n");
}

TEST_CASE("json stream: writer.error on a begun JSON stream writes the error line", "[api]") {
  RecordingWriter w;
  w.begin_stream(200, "application/json");
  w.write("{}\r\n");
  w.error(Error{Errc::Internal, "boom"});
  CHECK(w.chunks.back() == "{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}\r\n");
  CHECK(w.ended);
  CHECK_FALSE(w.aborted);
}

TEST_CASE("json stream: writer.error on a begun tar stream aborts it", "[api]") {
  RecordingWriter w;
  w.begin_stream(200, "application/x-tar");
  w.write("tarbytes");
  w.error(Error{Errc::Internal, "boom"});
  CHECK(w.aborted);
  CHECK(w.body == "tarbytes");
}

TEST_CASE("json stream: sends report a client that went away", "[api]") {
  RecordingWriter w;
  JsonStream s(w);
  CHECK(s.send(nlohmann::json{{"status", "a"}}));
  w.cancel = true;
  CHECK_FALSE(s.send(nlohmann::json{{"status", "b"}}));
}
