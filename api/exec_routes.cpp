#include "api/exec_routes.h"

#include <signal.h>

#include <nlohmann/json.hpp>

#include "api/router.h"
#include "common/containers/container_config.h"
#include "common/containers/container_service.h"

namespace imaged::api {

namespace {

using containers::ContainerService;
using containers::Exec;
using containers::ExecConfig;
using nlohmann::json;
using nlohmann::ordered_json;

Status create(ContainerService& cs, Request& req, ResponseWriter& w) {
  json body = IMAGED_TRY(req.json_body());
  if (!body.is_object()) return fail(Errc::InvalidArgument, "No exec command specified");
  ExecConfig config;
  config.cmd = containers::string_list(body.value("Cmd", json()));
  config.env = containers::string_list(body.value("Env", json()));
  config.user = body.value("User", "");
  config.working_dir = body.value("WorkingDir", "");
  config.tty = body.value("Tty", false);
  config.attach_stdin = body.value("AttachStdin", false);
  config.attach_stdout = body.value("AttachStdout", false);
  config.attach_stderr = body.value("AttachStderr", false);
  config.privileged = body.value("Privileged", false);
  auto id = IMAGED_TRY(cs.create_exec(req.param("name"), std::move(config)));
  w.json(201, ordered_json{{"Id", id}});
  return {};
}

Status start(ContainerService& cs, Request& req, ResponseWriter& w) {
  auto exec = IMAGED_TRY(cs.find_exec(req.param("id")));
  json body = IMAGED_TRY(req.json_body());
  if (!body.is_object()) body = json::object();
  auto [rows, cols] = containers::console_size(body);
  if (body.value("Detach", false)) {
    auto process = IMAGED_TRY(cs.start_exec(*exec, rows, cols));
    cs.pump_detached(exec, std::move(process));
    w.empty(200);
    return {};
  }
  // As dockerd: the switch first, then the start; a failure is written into the raw stream.
  bool tty = exec->config().tty;
  auto raw = IMAGED_TRY(w.upgrade(!tty && req.version.at_least(1, 42)
                                      ? "application/vnd.docker.multiplexed-stream"
                                      : "application/vnd.docker.raw-stream"));
  auto process = cs.start_exec(*exec, rows, cols);
  if (!process) {
    // dockerd writes it to the process's stdout (so, framed without a TTY).
    containers::Attachment out(std::move(raw.fd), true, true, !tty);
    out.send({containers::StreamId::Stdout, 0, process.error().message + "\r\n"});
    return {};
  }
  // A server stop ends the process (the container is about to be killed anyway).
  auto guard = w.on_interrupt([exec] {
    if (pid_t pid = exec->state().pid; pid > 0) ::kill(pid, SIGKILL);
  });
  int code = exec->pump(std::move(*process), std::move(raw.fd), std::move(raw.pending));
  cs.record_exec_exit(*exec, code);
  return {};
}

ordered_json inspect_json(const Exec& exec) {
  auto state = exec.state();
  const auto& config = exec.config();
  ordered_json out;
  out["ID"] = exec.id();
  out["Running"] = state.running;
  out["ExitCode"] = state.exit_code ? ordered_json(*state.exit_code) : ordered_json(nullptr);
  std::vector<std::string> args(config.cmd.begin() + (config.cmd.empty() ? 0 : 1),
                                config.cmd.end());
  out["ProcessConfig"] = {{"tty", config.tty},
                          {"entrypoint", config.cmd.empty() ? "" : config.cmd.front()},
                          {"arguments", args},
                          {"privileged", config.privileged},
                          {"user", config.user}};
  out["OpenStdin"] = config.attach_stdin;
  out["OpenStderr"] = config.attach_stderr;
  out["OpenStdout"] = config.attach_stdout;
  out["CanRemove"] = false;
  out["ContainerID"] = exec.container()->def().id;
  out["DetachKeys"] = "";
  out["Pid"] = state.pid;
  return out;
}

}  // namespace

void register_exec_routes(Router& router, ContainerService& cs) {
  router.add(Method::Post, "/containers/{name}/exec", [&cs](Request& r, ResponseWriter& w) {
    if (Status st = create(cs, r, w); !st) w.error(st.error());
  });
  router.add(Method::Post, "/exec/{id}/start", [&cs](Request& r, ResponseWriter& w) {
    if (Status st = start(cs, r, w); !st) w.error(st.error());
  });
  router.add(Method::Get, "/exec/{id}/json", [&cs](Request& r, ResponseWriter& w) {
    auto exec = cs.find_exec(r.param("id"));
    if (!exec) return (void)w.error(exec.error());
    w.json(200, inspect_json(**exec));
  });
  router.add(Method::Post, "/exec/{id}/resize", [&cs](Request& r, ResponseWriter& w) {
    auto exec = cs.find_exec(r.param("id"));
    if (!exec) return (void)w.error(exec.error());
    auto h = r.query.get_int("h"), wd = r.query.get_int("w");
    if (!h || !wd) return (void)w.error(!h ? h.error() : wd.error());
    (*exec)->resize(static_cast<unsigned short>(h->value_or(0)),
                    static_cast<unsigned short>(wd->value_or(0)));
    w.send(200, kTextContentType, "");
  });
}

}  // namespace imaged::api
