#include "common/containers/launcher.h"

#include <catch2/catch.hpp>

using imaged::containers::executable_candidates;

TEST_CASE("launcher: the command is searched in the container's PATH", "[containers]") {
  CHECK(executable_candidates("sh", {"A=1", "PATH=/usr/bin:/bin"}) ==
        std::vector<std::string>{"/usr/bin/sh", "/bin/sh"});
  CHECK(executable_candidates("sh", {}).front() == "/usr/local/sbin/sh");
  CHECK(executable_candidates("./run", {"PATH=/bin"}) == std::vector<std::string>{"./run"});
  CHECK(executable_candidates("/bin/echo", {"PATH=/x"}) == std::vector<std::string>{"/bin/echo"});
  CHECK(executable_candidates("x", {"PATH=/a::/b"}) ==
        std::vector<std::string>{"/a/x", "./x", "/b/x"});
}
