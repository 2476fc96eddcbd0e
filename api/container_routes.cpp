#include "api/container_routes.h"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "api/container_json.h"
#include "api/exec_routes.h"
#include "api/json_stream.h"
#include "api/query.h"
#include "api/router.h"
#include "common/containers/container_service.h"
#include "common/images/image_service.h"
#include "common/images/timestamps.h"

namespace imaged::api {

namespace {

using containers::Attachment;
using containers::Container;
using containers::ContainerService;
using containers::OutputChunk;
using containers::Snapshot;
using containers::State;
using containers::StreamId;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kRawStream = "application/vnd.docker.raw-stream";
constexpr std::string_view kMultiplexedStream = "application/vnd.docker.multiplexed-stream";

// The media type of a container's output: multiplexed without a TTY, announced from API 1.42.
std::string_view stream_type(const Request& req, const Container& c) {
  return !c.def().tty() && req.version.at_least(1, 42) ? kMultiplexedStream : kRawStream;
}

// Runs `body`; a returned error becomes the JSON error answer.
Handler handle(std::function<Status(Request&, ResponseWriter&)> body) {
  return [body = std::move(body)](Request& req, ResponseWriter& w) {
    if (Status st = body(req, w); !st) w.error(st.error());
  };
}

Status create(ContainerService& containers, Request& req, ResponseWriter& w) {
  json body = IMAGED_TRY(req.json_body());
  if (!body.is_object())
    return fail(Errc::InvalidArgument, "config cannot be empty in order to create a container");
  containers::CreateRequest create;
  create.name = req.query.value("name");
  create.host_config = body.value("HostConfig", json::object());
  body.erase("HostConfig");
  body.erase("NetworkingConfig");
  create.config = std::move(body);
  auto created = IMAGED_TRY(containers.create(create));
  w.json(201, ordered_json{{"Id", created.id}, {"Warnings", created.warnings}});
  return {};
}

// moby's list filters, on one container.
Result<bool> list_matches(const Filters& f, const Container& c, images::ImageService& images) {
  const auto& def = c.def();
  Snapshot s = c.snapshot();
  auto any_of = [&](std::string_view key, auto&& pred) {
    if (!f.contains(key)) return true;
    for (const auto& v : f.get(key))
      if (pred(v)) return true;
    return false;
  };
  if (!any_of("id", [&](const std::string& v) { return def.id.starts_with(v); })) return false;
  if (!any_of("name", [&](const std::string& v) {
        return def.name.find(v.starts_with('/') ? v.substr(1) : v) != std::string::npos;
      }))
    return false;
  if (!any_of("status", [&](const std::string& v) { return v == containers::state_name(s.state); }))
    return false;
  if (!any_of("exited", [&](const std::string& v) {
        return s.state == State::Exited && v == std::to_string(s.exit_code);
      }))
    return false;
  if (!any_of("ancestor", [&](const std::string& v) {
        auto id = images.resolve(v);
        return v == def.image_ref || (id && id->str() == def.image_id);
      }))
    return false;
  json labels = def.config.value("Labels", json::object());
  for (const auto& v : f.get("label")) {
    auto eq = v.find('=');
    std::string key = v.substr(0, eq);
    if (!labels.is_object() || !labels.contains(key)) return false;
    if (eq != std::string::npos && labels[key] != v.substr(eq + 1)) return false;
  }
  return true;
}

Status list(ContainerService& containers, images::ImageService& images, Request& req,
            ResponseWriter& w) {
  static constexpr std::string_view kKeys[] = {"id",    "name",   "status",
                                               "label", "exited", "ancestor"};
  Filters filters = IMAGED_TRY(Filters::parse(req.query.value("filters")));
  IMAGED_TRY(filters.validate(kKeys));
  auto limit = IMAGED_TRY(req.query.get_int("limit"));
  bool all = req.query.get_bool("all") || (limit && *limit > 0);
  ordered_json out = ordered_json::array();
  int64_t now = images::now_unix_ns();
  for (const auto& c : containers.list()) {
    if (limit && *limit > 0 && static_cast<int64_t>(out.size()) >= *limit) break;
    if (!all && c->snapshot().state != State::Running) continue;
    if (!IMAGED_TRY(list_matches(filters, *c, images))) continue;
    out.push_back(container_summary_json(*c, now));
  }
  w.json(200, out);
  return {};
}

Status attach(ContainerService& containers, Request& req, ResponseWriter& w) {
  auto c = IMAGED_TRY(containers.find(req.param("name")));
  bool want_stdin = req.query.get_bool("stdin");
  auto attachment_of = [&](content::UniqueFd fd) {
    return std::make_shared<Attachment>(std::move(fd), req.query.get_bool("stdout"),
                                        req.query.get_bool("stderr"), !c->def().tty());
  };
  auto raw = IMAGED_TRY(w.upgrade(stream_type(req, *c)));
  auto attachment = attachment_of(std::move(raw.fd));
  containers.record_event(*c, "attach");
  if (req.query.get_bool("logs")) {
    std::vector<OutputChunk> kept;
    c->output_since(0, kept);
    for (const auto& chunk : kept)
      if (!attachment->send(chunk)) return {};
  }
  if (!req.query.get_bool("stream")) return {};
  Snapshot s = c->snapshot();
  if (s.state == State::Exited || s.state == State::Removing) return {};
  c->attach(attachment);
  // Until the output ends, the client hangs up (both ways: the CLI half-closes when it has no
  // stdin), or the server stops.
  auto hung_up = [&] {
    pollfd p{attachment->fd(), 0, 0};
    return (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) || w.stopping();
  };
  if (want_stdin && c->def().open_stdin()) {
    // The CLI sends stdin as soon as it is attached, before it starts the container: input
    // waits for the process.
    auto running = [&] {
      c->wait_until([](const Snapshot& st, std::size_t) { return st.state != State::Created; },
                    hung_up);
      return c->snapshot().state == State::Running;
    };
    std::string data = std::move(raw.pending);
    char buf[16 * 1024];
    for (;;) {
      if (data.empty()) {
        ssize_t n = ::recv(attachment->fd(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        data.assign(buf, static_cast<std::size_t>(n));
      }
      if (!running() || !c->write_stdin(data)) break;
      data.clear();
    }
    if (c->def().config.value("StdinOnce", false) && running()) c->close_stdin();
  }
  c->wait_until([&](const Snapshot&, std::size_t) { return attachment->closed(); }, hung_up);
  c->detach(attachment);
  return {};
}

Status wait(ContainerService& containers, Request& req, ResponseWriter& w) {
  std::string condition = req.query.value("condition");
  if (!condition.empty() && condition != "not-running" && condition != "next-exit" &&
      condition != "removed")
    return fail(Errc::InvalidArgument, "invalid condition: \"" + condition + "\"");
  auto c = IMAGED_TRY(containers.find(req.param("name")));
  std::uint64_t exits_before = c->snapshot().exits;
  // The CLI sends start only after these headers arrive (engine-api.md §4.2).
  JsonStream stream(w, "\n");
  if (!stream.begin()) return {};
  auto done = [&](const Snapshot& s, std::size_t) {
    if (condition == "removed") return s.removed;
    if (condition == "next-exit") return s.exits > exits_before;
    return s.state != State::Running;
  };
  auto guard = w.on_interrupt([&] { c->notify(); });
  Snapshot s = c->wait_until(done, [&] { return w.canceled() || w.stopping(); });
  if (!done(s, 0)) return {};
  // A start that failed was already answered with its error: dockerd's wait then reports only
  // the exit code (the CLI would print the error twice otherwise).
  ordered_json result;
  result["Error"] = nullptr;
  result["StatusCode"] = s.exit_code;
  stream.send(result);
  return {};
}

Status logs(ContainerService& containers, Request& req, ResponseWriter& w) {
  auto c = IMAGED_TRY(containers.find(req.param("name")));
  bool want_stdout = req.query.get_bool("stdout"), want_stderr = req.query.get_bool("stderr");
  if (!want_stdout && !want_stderr)
    return fail(Errc::InvalidArgument, "Bad parameters: you must choose at least one stream");
  int64_t since = 0, until = 0;
  if (auto v = req.query.get("since"); v && !v->empty() && *v != "0")
    since = IMAGED_TRY(images::parse_unix_timestamp(*v));
  if (auto v = req.query.get("until"); v && !v->empty() && *v != "0")
    until = IMAGED_TRY(images::parse_unix_timestamp(*v));
  bool follow = req.query.get_bool("follow"), timestamps = req.query.get_bool("timestamps");
  std::string tail = req.query.value("tail");
  bool mux = !c->def().tty();

  std::vector<OutputChunk> chunks;
  std::size_t next = c->output_since(0, chunks);
  auto wanted = [&](const OutputChunk& chunk) {
    return (chunk.stream == StreamId::Stdout ? want_stdout : want_stderr) &&
           chunk.time_ns >= since && (until == 0 || chunk.time_ns <= until);
  };
  std::erase_if(chunks, [&](const OutputChunk& chunk) { return !wanted(chunk); });
  if (!tail.empty() && tail != "all") {
    auto n = IMAGED_TRY(req.query.get_int("tail"));
    if (n && *n >= 0 && static_cast<std::size_t>(*n) < chunks.size())
      chunks.erase(chunks.begin(), chunks.end() - *n);
  }
  if (!w.begin_stream(200, mux ? stream_type(req, *c) : kRawStream)) return {};
  auto write = [&](const OutputChunk& chunk) {
    std::string data =
        timestamps ? images::format_rfc3339_nano(chunk.time_ns) + " " + chunk.data : chunk.data;
    if (!mux) return w.write(data);
    return w.write(containers::frame_header(chunk.stream, data.size()) + data);
  };
  for (const auto& chunk : chunks)
    if (!write(chunk)) return {};
  auto guard = w.on_interrupt([&] { c->notify(); });
  while (follow && (until == 0 || until > images::now_unix_ns())) {
    Snapshot s =
        c->wait_until([&](const Snapshot& st,
                          std::size_t end) { return end > next || st.state != State::Running; },
                      [&] { return w.canceled() || w.stopping(); });
    chunks.clear();
    next = c->output_since(next, chunks);
    for (const auto& chunk : chunks)
      if (wanted(chunk) && !write(chunk)) return {};
    if (s.state != State::Running || w.canceled() || w.stopping()) break;
  }
  w.end();
  return {};
}

Status resize(ContainerService& containers, Request& req, ResponseWriter& w) {
  auto c = IMAGED_TRY(containers.find(req.param("name")));
  auto h = IMAGED_TRY(req.query.get_int("h")), wd = IMAGED_TRY(req.query.get_int("w"));
  if (c->snapshot().state != State::Running)
    return fail(Errc::Conflict, "Container " + c->def().id + " is not running");
  c->resize(static_cast<unsigned short>(h.value_or(0)),
            static_cast<unsigned short>(wd.value_or(0)));
  w.send(200, kTextContentType, "");
  return {};
}

Status prune(ContainerService& containers, Request& req, ResponseWriter& w) {
  Filters filters = IMAGED_TRY(Filters::parse(req.query.value("filters")));
  static constexpr std::string_view kKeys[] = {"until", "label", "label!"};
  IMAGED_TRY(filters.validate(kKeys));
  auto report = IMAGED_TRY(containers.prune());
  ordered_json out;
  out["ContainersDeleted"] =
      report.deleted.empty() ? ordered_json(nullptr) : ordered_json(report.deleted);
  out["SpaceReclaimed"] = report.space_reclaimed;
  w.json(200, out);
  return {};
}

}  // namespace

void register_container_routes(Router& router, ContainerService& containers,
                               images::ImageService& images) {
  auto& cs = containers;
  router.add(Method::Post, "/containers/create",
             handle([&cs](Request& r, ResponseWriter& w) { return create(cs, r, w); }));
  router.add(Method::Get, "/containers/json", handle([&cs, &images](Request& r, ResponseWriter& w) {
               return list(cs, images, r, w);
             }));
  router.add(Method::Post, "/containers/prune",
             handle([&cs](Request& r, ResponseWriter& w) { return prune(cs, r, w); }));
  // docker inspect passes whatever it was given (an image reference with '/' and ':') here.
  router.add(Method::Get, "/containers/{name:.*}/json",
             handle([&cs](Request& r, ResponseWriter& w) -> Status {
               auto c = IMAGED_TRY(cs.find(r.param("name")));
               w.json(200, container_inspect_json(*c));
               return {};
             }));
  router.add(Method::Post, "/containers/{name}/start",
             handle([&cs](Request& r, ResponseWriter& w) -> Status {
               bool started = IMAGED_TRY(cs.start(r.param("name")));
               w.empty(started ? 204 : 304);
               return {};
             }));
  router.add(Method::Post, "/containers/{name}/attach",
             handle([&cs](Request& r, ResponseWriter& w) { return attach(cs, r, w); }));
  router.add(Method::Post, "/containers/{name}/wait",
             handle([&cs](Request& r, ResponseWriter& w) { return wait(cs, r, w); }));
  router.add(Method::Get, "/containers/{name}/logs",
             handle([&cs](Request& r, ResponseWriter& w) { return logs(cs, r, w); }));
  router.add(Method::Post, "/containers/{name}/resize",
             handle([&cs](Request& r, ResponseWriter& w) { return resize(cs, r, w); }));
  router.add(Method::Post, "/containers/{name}/kill",
             handle([&cs](Request& r, ResponseWriter& w) -> Status {
               IMAGED_TRY(cs.kill(r.param("name"), r.query.value("signal")));
               w.empty(204);
               return {};
             }));
  auto timeout = [](Request& r) -> Result<std::optional<int>> {
    auto t = IMAGED_TRY(r.query.get_int("t"));
    return t ? std::optional<int>(static_cast<int>(*t)) : std::nullopt;
  };
  router.add(Method::Post, "/containers/{name}/stop",
             handle([&cs, timeout](Request& r, ResponseWriter& w) -> Status {
               bool stopped = IMAGED_TRY(
                   cs.stop(r.param("name"), IMAGED_TRY(timeout(r)), r.query.value("signal")));
               w.empty(stopped ? 204 : 304);
               return {};
             }));
  router.add(
      Method::Post, "/containers/{name}/restart",
      handle([&cs, timeout](Request& r, ResponseWriter& w) -> Status {
        IMAGED_TRY(cs.stop(r.param("name"), IMAGED_TRY(timeout(r)), r.query.value("signal")));
        IMAGED_TRY(cs.start(r.param("name")));
        w.empty(204);
        return {};
      }));
  router.add(Method::Delete, "/containers/{name}",
             handle([&cs](Request& r, ResponseWriter& w) -> Status {
               IMAGED_TRY(cs.remove(r.param("name"), r.query.get_bool("force")));
               w.empty(204);
               return {};
             }));
  register_exec_routes(router, containers);
  // Everything else about a container (pause, rename, export, top, ...).
  for (Method m : {Method::Get, Method::Post, Method::Put, Method::Delete})
    router.add(
        m, "/containers/{name}/{action:.+}", handle([&cs](Request& r, ResponseWriter&) -> Status {
          IMAGED_TRY(cs.find(r.param("name")));
          return fail(Errc::Unimplemented, "imaged does not implement " +
                                               std::string(to_string(r.method)) + " " + r.path);
        }));
}

}  // namespace imaged::api
