#include "common/images/dockerfile_changes.h"

#include <catch2/catch.hpp>

using namespace imaged;
using namespace imaged::images;

namespace {

ContainerConfig applied(const std::vector<std::string>& changes) {
  ContainerConfig c;
  auto st = apply_dockerfile_changes(c, changes);
  INFO((st ? std::string() : st.error().message));
  REQUIRE(st);
  return c;
}

std::string refused(const std::vector<std::string>& changes) {
  ContainerConfig c;
  auto st = apply_dockerfile_changes(c, changes);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::InvalidArgument);
  return st.error().message;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("changes: no changes is moby's empty container.Config", "[import][changes]") {
  CHECK(container_config_json(ContainerConfig{}).dump() ==
        R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
        R"("AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,)"
        R"("Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,)"
        R"("Labels":null})");
}

TEST_CASE("changes: CMD and ENTRYPOINT, exec and shell forms", "[import][changes]") {
  CHECK(applied({R"(CMD ["sh"])"}).cmd == Strings{"sh"});
  CHECK(applied({"cmd echo hi there"}).cmd == Strings{"/bin/sh", "-c", "echo hi there"});
  auto e = applied({R"(ENTRYPOINT ["/bin/busybox"])"});
  CHECK(e.entrypoint == Strings{"/bin/busybox"});
  CHECK_FALSE(e.cmd);
  // ENTRYPOINT clears a Cmd set before it only by an earlier image, not by this build.
  auto both = applied({R"(CMD ["ls"])", "ENTRYPOINT top -b"});
  CHECK(both.cmd == Strings{"ls"});
  CHECK(both.entrypoint == Strings{"/bin/sh", "-c", "top -b"});
}

TEST_CASE("changes: ENV, LABEL, EXPOSE, USER, WORKDIR, VOLUME, ONBUILD, STOPSIGNAL",
          "[import][changes]") {
  auto c = applied({"ENV A=1 B=\"two words\"", "ENV C three words", "ENV A=replaced",
                    "LABEL org.x=\"y z\" k=v", "LABEL legacy value here", "EXPOSE 80 53/udp",
                    "EXPOSE 8000-8001", "USER nobody", "WORKDIR /srv", "WORKDIR app/../data",
                    "VOLUME /var/a /var/b", R"(VOLUME ["/c"])", "ONBUILD RUN echo hi",
                    "STOPSIGNAL SIGINT"});
  CHECK(c.env == Strings{"A=replaced", "B=two words", "C=three words"});
  CHECK(c.labels ==
        std::map<std::string, std::string>{{"org.x", "y z"}, {"k", "v"}, {"legacy", "value here"}});
  CHECK(c.exposed_ports == std::set<std::string>{"80/tcp", "53/udp", "8000/tcp", "8001/tcp"});
  CHECK(c.user == "nobody");
  CHECK(c.working_dir == "/srv/data");
  CHECK(c.volumes == std::set<std::string>{"/var/a", "/var/b", "/c"});
  CHECK(c.on_build == Strings{"RUN echo hi"});
  CHECK(c.stop_signal == "SIGINT");
  const auto j = container_config_json(c);
  CHECK(j["ExposedPorts"].dump() == R"({"53/udp":{},"80/tcp":{},"8000/tcp":{},"8001/tcp":{}})");
  CHECK(j["StopSignal"] == "SIGINT");
  CHECK(j["Volumes"].dump() == R"({"/c":{},"/var/a":{},"/var/b":{}})");
}

TEST_CASE("changes: HEALTHCHECK", "[import][changes]") {
  auto shell = applied({"HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD wget -q x"});
  CHECK(container_config_json(shell)["Healthcheck"].dump() ==
        R"({"Test":["CMD-SHELL","wget -q x"],"Interval":90000000000,"Timeout":500000000,)"
        R"("Retries":3})");
  auto exec = applied({R"(HEALTHCHECK CMD ["true"])"});
  CHECK(exec.healthcheck->test == Strings{"CMD", "true"});
  CHECK(applied({"HEALTHCHECK NONE"}).healthcheck->test == Strings{"NONE"});
  CHECK(refused({"HEALTHCHECK --interval=soon CMD x"}) == "time: invalid duration \"soon\"");
  CHECK(refused({"HEALTHCHECK"}) == "HEALTHCHECK requires at least one argument");
}

TEST_CASE("changes: what dockerd refuses", "[import][changes]") {
  CHECK(refused({"RUN echo hi"}) == "run is not a valid change command");
  CHECK(refused({"FROM busybox"}) == "from is not a valid change command");
  CHECK(refused({"ENV"}) == "ENV requires at least one argument");
  CHECK(refused({"ENV A"}) == "ENV must have two arguments");
  CHECK(refused({"USER"}) == "USER requires at least one argument");
  CHECK(refused({"EXPOSE http"}) == "invalid containerPort: http");
  CHECK(refused({"ONBUILD ONBUILD RUN x"}) ==
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  CHECK(refused({"ONBUILD FROM x"}) == "FROM isn't allowed as an ONBUILD trigger");
}
