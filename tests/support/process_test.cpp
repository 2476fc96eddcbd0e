#include "tests/support/process.h"

#include <catch2/catch.hpp>
#include <csignal>

using namespace imaged::testing;
using namespace std::chrono_literals;

TEST_CASE("support: run captures output, exit code and stdin", "[support]") {
  auto r = run_shell("read x; echo out-$x; echo err >&2; exit 3", 5s, {.stdin_data = "hi\n"});
  CHECK(r.exit_code == 3);
  CHECK(r.out == "out-hi\n");
  CHECK(r.err == "err\n");
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("support: run kills a command past its deadline", "[support]") {
  auto r = run({"sleep", "30"}, 200ms);
  CHECK(r.timed_out);
  CHECK(r.exit_code == -1);
}

TEST_CASE("support: background process can be signalled and reaped", "[support]") {
  Process p({"sleep", "30"});
  CHECK(p.running());
  p.signal(SIGTERM);
  CHECK(p.wait(5s) == -1);
}
