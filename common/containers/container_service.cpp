#include "common/containers/container_service.h"
#include "common/images/timestamps.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <fstream>
#include <thread>

#include "common/containers/container_config.h"
#include "common/containers/launcher.h"
#include "common/containers/names.h"
#include "common/containers/rootfs.h"
#include "common/images/event_log.h"
#include "common/images/image_service.h"

namespace imaged::containers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Error no_such_container(std::string_view name) {
  return Error{Errc::NotFound, "No such container: " + std::string(name)};
}

Status write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) return fail(Errc::Internal, "writing " + path.string());
  return {};
}

// The files dockerd bind-mounts over /etc: written into the container's own rootfs.
Status write_etc_files(const fs::path& rootfs, const std::string& hostname, bool host_network) {
  std::error_code ec;
  fs::create_directories(rootfs / "etc", ec);
  // An image's /etc/hosts may be a symlink: never write through it.
  for (const char* name : {"hostname", "hosts", "resolv.conf"})
    fs::remove(rootfs / "etc" / name, ec);
  IMAGED_TRY(write_file(rootfs / "etc/hostname", hostname + "\n"));
  std::string hosts =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  if (host_network) {
    std::ifstream in("/etc/hosts");
    hosts.assign(std::istreambuf_iterator<char>(in), {});
  }
  IMAGED_TRY(write_file(rootfs / "etc/hosts", hosts));
  std::string resolv;
  if (host_network) {
    std::ifstream in("/etc/resolv.conf");
    resolv.assign(std::istreambuf_iterator<char>(in), {});
  }
  return write_file(rootfs / "etc/resolv.conf", resolv);
}

int64_t directory_size(const fs::path& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec))
      total += static_cast<int64_t>(it->file_size(ec));
  return total;
}

constexpr std::array<std::pair<std::string_view, int>, 31> kSignals = {{
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
}};

// The parent and child ends of a container's standard streams.
struct StreamSet {
  Container::Streams parent;
  content::UniqueFd child_in, child_out, child_err;
};

Result<StreamSet> make_streams(bool tty, bool open_stdin) {
  StreamSet s;
  if (tty) return s;  // the launcher allocates the terminal inside the container
  auto make_pipe = [](content::UniqueFd& read_end, content::UniqueFd& write_end) -> Status {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail(content::errno_error(errno, "pipe"));
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return {};
  };
  IMAGED_TRY(make_pipe(s.parent.stdout_read, s.child_out));
  IMAGED_TRY(make_pipe(s.parent.stderr_read, s.child_err));
  if (open_stdin) {
    IMAGED_TRY(make_pipe(s.child_in, s.parent.stdin_write));
  } else {
    s.child_in.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!s.child_in) return fail(content::errno_error(errno, "opening /dev/null"));
  }
  return s;
}

// A terminal's master side as the parent's streams: the output, and the input with stdin.
void adopt_terminal(Process& process, bool open_stdin, Container::Streams& out) {
  if (open_stdin) out.stdin_write.reset(::fcntl(process.terminal.get(), F_DUPFD_CLOEXEC, 0));
  out.stdout_read = std::move(process.terminal);
}

// Where the container's /etc/passwd is: its own (a previous run may have changed it), else the
// image's.
fs::path users_root(const Definition& def) {
  std::error_code ec;
  return def.lower.empty() || fs::exists(def.upper() / "etc/passwd", ec) ? def.own_files()
                                                                         : def.lower;
}

// The HostConfig defaults dockerd fills in at create (clients read them back: docker-py's
// containers.run() reads LogConfig.Type to know whether logs can be read).
void fill_host_config_defaults(json& host_config) {
  if (host_config.value("NetworkMode", "").empty()) host_config["NetworkMode"] = "default";
  json& log = host_config["LogConfig"];
  if (!log.is_object()) log = json::object();
  if (log.value("Type", "").empty()) log["Type"] = "json-file";
  if (!log.contains("Config") || log["Config"].is_null()) log["Config"] = json::object();
  json& restart = host_config["RestartPolicy"];
  if (!restart.is_object() || restart.value("Name", "").empty())
    restart = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  if (host_config.value("IpcMode", "").empty()) host_config["IpcMode"] = "private";
  if (host_config.value("ShmSize", 0) == 0) host_config["ShmSize"] = 67108864;
}

// dockerd's exit code for a start that failed before the command ran (CLI: 127/126).
int failed_start_code(const Error& err) {
  return err.message.find("permission denied") != std::string::npos ? 126 : 127;
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int number = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && p == text.data() + text.size())
    return number > 0 && number < 65 ? std::optional(number) : std::nullopt;
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = upper;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (auto [n, sig] : kSignals)
    if (n == name) return sig;
  return std::nullopt;
}

ContainerService::ContainerService(images::ImageService& images, content::Provider& content,
                                   images::EventLog& events, fs::path dir, fs::path snapshots)
    : images_(images),
      content_(content),
      events_(events),
      dir_(std::move(dir)),
      snapshots_(content, std::move(snapshots)) {
  // Containers of a previous run did not survive it. The directory itself is made by the first
  // create (a daemon that never runs a container starts with no extra work).
  std::error_code ec;
  fs::remove_all(dir_, ec);
  snapshots_.prune_stale(
      [&](const Digest& image) { return images_.resolve(image.str()).has_value(); });
}

ContainerService::~ContainerService() {
  std::vector<std::shared_ptr<Container>> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, c] : by_id_) all.push_back(c);
  }
  for (auto& c : all) c->kill(SIGKILL);
  std::unique_lock lock(mu_);
  supervisors_done_.wait_for(lock, std::chrono::seconds(10), [&] { return supervisors_ == 0; });
  lock.unlock();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string ContainerService::unique_name() {
  std::lock_guard lock(mu_);
  for (int retry = 0;; ++retry) {
    std::string name = generate_name(retry);
    if (!preparing_names_.contains(name) &&
        !std::any_of(by_id_.begin(), by_id_.end(),
                     [&](const auto& kv) { return kv.second->def().name == name; }))
      return name;
  }
}

Status ContainerService::prepare_rootfs(Definition& def) {
  std::error_code ec;
  for (const auto& d : {def.rootfs(), def.upper(), def.work()}) {
    fs::create_directories(d, ec);
    if (ec) return fail(Errc::Internal, "creating " + d.string() + ": " + ec.message());
  }
  auto image = IMAGED_TRY(Digest::parse(def.image_id));
  auto layers = IMAGED_TRY(images_.layer_blobs(image));
  std::call_once(overlay_probe_, [&] { overlay_ = Snapshots::overlay_works(dir_ / ".probe"); });
  if (overlay_)
    def.lower = IMAGED_TRY(snapshots_.prepare(image, layers));
  else
    IMAGED_TRY(unpack_layers(content_, layers, def.rootfs()));
  return write_etc_files(def.own_files(), def.config.value("Hostname", ""),
                         def.host_config.value("NetworkMode", "") == "host");
}

Result<Created> ContainerService::create(const CreateRequest& request) {
  std::string name = request.name;
  if (name.starts_with('/')) name.erase(0, 1);
  if (!request.name.empty() && !valid_name(name))
    return fail(Errc::InvalidArgument, "Invalid container name (" + request.name +
                                           "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  json user = request.config.is_object() ? request.config : json::object();
  std::string image_ref = user.value("Image", "");
  if (image_ref.empty())
    return fail(Errc::InvalidArgument, "Config cannot be empty in order to create a container");
  auto image_id = IMAGED_TRY(images_.resolve(image_ref));
  auto detail = IMAGED_TRY(images_.inspect(image_id.str()));
  IMAGED_TRY(bind_mounts(request.host_config));

  Definition def;
  def.id = random_id();
  def.name = name.empty() ? unique_name() : name;
  def.created_ns = images::now_unix_ns();
  def.image_id = image_id.str();
  def.image_ref = image_ref;
  def.config = merge_image_config(std::move(user), detail.config);
  if (command_line(def.config).empty()) return fail(Errc::InvalidArgument, "No command specified");
  if (def.config.value("Hostname", "").empty()) def.config["Hostname"] = def.id.substr(0, 12);
  def.config["Image"] = image_ref;
  def.host_config = request.host_config.is_object() ? request.host_config : json::object();
  fill_host_config_defaults(def.host_config);
  def.dir = dir_ / def.id;

  {
    std::lock_guard lock(mu_);
    std::optional<std::string> holder;
    if (auto r = preparing_names_.find(def.name); r != preparing_names_.end()) holder = r->second;
    for (const auto& [id, c] : by_id_)
      if (c->def().name == def.name) holder = id;
    if (holder)
      return fail(Errc::Conflict, "Conflict. The container name \"/" + def.name +
                                      "\" is already in use by container \"" + *holder +
                                      "\". You have to remove (or rename) that container to be "
                                      "able to reuse that name.");
    preparing_names_.emplace(def.name, def.id);  // reserved while the root is prepared
  }
  Status prepared = prepare_rootfs(def);
  auto container = std::make_shared<Container>(def);
  {
    std::lock_guard lock(mu_);
    preparing_names_.erase(def.name);
    if (prepared) by_id_.emplace(def.id, container);
  }
  if (!prepared) {
    std::error_code ec;
    fs::remove_all(def.dir, ec);
    return fail(prepared.error());
  }
  record_event(*container, "create");
  return Created{def.id, {}};
}

Result<std::shared_ptr<Container>> ContainerService::find(std::string_view name) const {
  std::string_view key = name.starts_with('/') ? name.substr(1) : name;
  std::lock_guard lock(mu_);
  if (key.empty()) return fail(no_such_container(name));
  if (auto it = by_id_.find(std::string(key)); it != by_id_.end()) return it->second;
  for (const auto& [id, c] : by_id_)
    if (c->def().name == key) return c;
  std::shared_ptr<Container> found;
  for (const auto& [id, c] : by_id_)
    if (id.starts_with(key)) {
      if (found)
        return fail(Errc::InvalidArgument,
                    "multiple IDs found with provided prefix: " + std::string(key));
      found = c;
    }
  if (!found) return fail(no_such_container(name));
  return found;
}

std::vector<std::shared_ptr<Container>> ContainerService::list() const {
  std::vector<std::shared_ptr<Container>> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : by_id_) out.push_back(c);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->def().created_ns > b->def().created_ns; });
  return out;
}

std::optional<images::ImageUser> ContainerService::user_of(std::string_view image_id) const {
  std::optional<images::ImageUser> user;
  std::lock_guard lock(mu_);
  for (const auto& [id, c] : by_id_) {
    if (c->def().image_id != image_id) continue;
    bool running = c->snapshot().state == State::Running;
    if (!user || (running && !user->running)) user = images::ImageUser{id, running};
  }
  return user;
}

Result<bool> ContainerService::start(std::string_view name) {
  auto c = IMAGED_TRY(find(name));
  const Definition& def = c->def();
  Snapshot s = c->snapshot();
  if (s.state == State::Running) return false;
  if (s.state == State::Removing)
    return fail(Errc::Conflict, "container is marked for removal and cannot be started");

  ProcessSpec spec;
  spec.rootfs = def.rootfs();
  if (!def.lower.empty()) spec.overlay = Overlay{def.lower, def.upper(), def.work()};
  spec.args = command_line(def.config);
  auto started = [&]() -> Result<Process> {
    auto id = IMAGED_TRY(resolve_user(users_root(def), def.config.value("User", "")));
    spec.uid = id.uid;
    spec.gid = id.gid;
    spec.groups = id.groups;
    spec.hostname = def.config.value("Hostname", "");
    spec.env = process_env(def.config, spec.hostname, id.home);
    std::string workdir = def.config.value("WorkingDir", "");
    spec.working_dir = workdir.empty() ? "/" : workdir;
    spec.host_network = def.host_config.value("NetworkMode", "") == "host";
    spec.binds = IMAGED_TRY(bind_mounts(def.host_config));
    spec.tty = def.tty();
    std::tie(spec.tty_rows, spec.tty_cols) = console_size(def.host_config);
    StreamSet streams = IMAGED_TRY(make_streams(def.tty(), def.open_stdin()));
    spec.stdin_fd = streams.child_in.get();
    spec.stdout_fd = streams.child_out.get();
    spec.stderr_fd = streams.child_err.get();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return fail(Errc::Unavailable, "the daemon is shutting down");
      ++supervisors_;
    }
    auto process = launch(spec);
    if (!process) {
      std::lock_guard lock(mu_);
      --supervisors_;
      return process;
    }
    if (def.tty()) adopt_terminal(*process, def.open_stdin(), streams.parent);
    c->begin_running(process->pid, std::move(streams.parent), [this](Container& exited) {
      on_exit(exited);
      std::lock_guard lock(mu_);
      --supervisors_;
      supervisors_done_.notify_all();
    });
    return process;
  }();
  if (!started) {
    c->record_failed_start(failed_start_code(started.error()), started.error().message);
    record_event(*c, "die", {{"exitCode", std::to_string(c->snapshot().exit_code)}});
    if (def.auto_remove()) (void)remove_container(c);
    return fail(started.error());
  }
  record_event(*c, "start");
  return true;
}

Result<std::string> ContainerService::create_exec(std::string_view name, ExecConfig config) {
  auto c = IMAGED_TRY(find(name));
  if (config.cmd.empty()) return fail(Errc::InvalidArgument, "No exec command specified");
  if (c->snapshot().state != State::Running)
    return fail(Errc::Conflict, "Container " + c->def().id + " is not running");
  std::string id = random_id();
  std::string command = join_command(config.cmd);
  {
    std::lock_guard lock(mu_);
    execs_.emplace(id, std::make_shared<Exec>(id, c, std::move(config)));
  }
  record_event(*c, "exec_create: " + command, {{"execID", id}});
  return id;
}

Result<std::shared_ptr<Exec>> ContainerService::find_exec(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = execs_.find(std::string(id));
  if (it == execs_.end()) return fail(Errc::NotFound, "No such exec instance: " + std::string(id));
  return it->second;
}

Result<ExecProcess> ContainerService::start_exec(Exec& exec, unsigned short rows,
                                                 unsigned short cols) {
  const ExecConfig& config = exec.config();
  const Definition& def = exec.container()->def();
  if (!exec.claim())
    return fail(Errc::Conflict, "Error: Exec command " + exec.id() + " is already running");
  pid_t target = exec.container()->snapshot().pid;
  auto started = [&]() -> Result<ExecProcess> {
    if (target <= 0) return fail(Errc::Conflict, "Container " + def.id + " is not running");
    json config_env = def.config;  // the exec's Env over the container's
    config_env["Env"] = merge_env(config.env, string_list(def.config.value("Env", json())));
    ProcessSpec spec;
    spec.args = config.cmd;
    std::string user = config.user.empty() ? def.config.value("User", "") : config.user;
    auto id = IMAGED_TRY(resolve_user(users_root(def), user));
    spec.uid = id.uid;
    spec.gid = id.gid;
    spec.groups = id.groups;
    spec.env = process_env(config_env, def.config.value("Hostname", ""), id.home);
    std::string workdir =
        config.working_dir.empty() ? def.config.value("WorkingDir", "") : config.working_dir;
    spec.working_dir = workdir.empty() ? "/" : workdir;
    spec.tty = config.tty;
    spec.tty_rows = rows;
    spec.tty_cols = cols;
    StreamSet streams = IMAGED_TRY(make_streams(config.tty, config.attach_stdin));
    spec.stdin_fd = streams.child_in.get();
    spec.stdout_fd = streams.child_out.get();
    spec.stderr_fd = streams.child_err.get();
    auto process = IMAGED_TRY(launch_exec(target, spec));
    if (config.tty) adopt_terminal(process, config.attach_stdin, streams.parent);
    return ExecProcess{process.pid, std::move(streams.parent)};
  }();
  if (!started) {
    exec.record_failed_start(failed_start_code(started.error()));
    return started;
  }
  record_event(*exec.container(), "exec_start: " + join_command(config.cmd),
               {{"execID", exec.id()}});
  return started;
}

void ContainerService::record_exec_exit(const Exec& exec, int exit_code) {
  record_event(*exec.container(), "exec_die",
               {{"execID", exec.id()}, {"exitCode", std::to_string(exit_code)}});
}

void ContainerService::pump_detached(std::shared_ptr<Exec> exec, ExecProcess process) {
  {
    std::lock_guard lock(mu_);
    ++supervisors_;
  }
  std::thread([this, exec = std::move(exec), process = std::move(process)]() mutable {
    int code = exec->pump(std::move(process), {}, {});
    record_exec_exit(*exec, code);
    std::lock_guard lock(mu_);
    --supervisors_;
    supervisors_done_.notify_all();
  }).detach();
}

void ContainerService::on_exit(Container& container) {
  record_event(container, "die", {{"exitCode", std::to_string(container.snapshot().exit_code)}});
  if (!container.def().auto_remove()) return;
  if (auto c = find(container.def().id)) (void)remove_container(*c);
}

Status ContainerService::kill(std::string_view name, std::string_view signal) {
  auto c = IMAGED_TRY(find(name));
  int sig = SIGKILL;
  if (!signal.empty()) {
    auto parsed = parse_signal(signal);
    if (!parsed) return fail(Errc::InvalidArgument, "Invalid signal: " + std::string(signal));
    sig = *parsed;
  }
  if (!c->kill(sig))
    return fail(Errc::Conflict, "Cannot kill container: " + std::string(name) + ": Container " +
                                    c->def().id + " is not running");
  record_event(*c, "kill", {{"signal", std::to_string(sig)}});
  return {};
}

Result<bool> ContainerService::stop(std::string_view name, std::optional<int> timeout_s,
                                    std::string_view signal) {
  auto c = IMAGED_TRY(find(name));
  if (c->snapshot().state != State::Running) return false;
  std::string stop_signal(signal.empty() ? c->def().config.value("StopSignal", "") : signal);
  int sig = parse_signal(stop_signal).value_or(SIGTERM);
  if (c->kill(sig)) record_event(*c, "kill", {{"signal", std::to_string(sig)}});
  int timeout = timeout_s.value_or(c->def().config.value("StopTimeout", 10));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(timeout, 0));
  auto not_running = [](const Snapshot& s, std::size_t) { return s.state != State::Running; };
  Snapshot s =
      c->wait_until(not_running, [&] { return std::chrono::steady_clock::now() >= deadline; });
  if (s.state == State::Running) {
    if (c->kill(SIGKILL)) record_event(*c, "kill", {{"signal", std::to_string(SIGKILL)}});
    c->wait_until(not_running, {});
  }
  record_event(*c, "stop");
  return true;
}

Status ContainerService::remove(std::string_view name, bool force) {
  auto c = IMAGED_TRY(find(name));
  if (c->snapshot().state == State::Running) {
    if (!force)
      return fail(Errc::Conflict, "cannot remove container \"/" + c->def().name +
                                      "\": container is running: stop the container before "
                                      "removing or force remove");
    c->kill(SIGKILL);
    c->wait_until([](const Snapshot& s, std::size_t) { return s.state != State::Running; }, {});
  }
  if (c->def().auto_remove()) {
    // The supervisor removes it; wait for that rather than racing it.
    c->wait_until([](const Snapshot& s, std::size_t) { return s.removed; },
                  [&] { return c->snapshot().state == State::Created; });
    if (c->snapshot().removed) return {};
  }
  return remove_container(c);
}

Status ContainerService::remove_container(const std::shared_ptr<Container>& c) {
  if (!c->mark_removing())
    return fail(Errc::Conflict, "removal of container " + c->def().id + " is already in progress");
  std::error_code ec;
  fs::remove_all(c->def().dir, ec);
  {
    std::lock_guard lock(mu_);
    by_id_.erase(c->def().id);
    std::erase_if(execs_, [&](const auto& kv) { return kv.second->container() == c; });
  }
  record_event(*c, "destroy");
  c->mark_removed();
  return {};
}

Result<PruneResult> ContainerService::prune() {
  PruneResult result;
  for (const auto& c : list()) {
    State state = c->snapshot().state;
    if (state != State::Exited && state != State::Created) continue;
    int64_t size = directory_size(c->def().dir);
    if (remove_container(c)) {
      result.deleted.push_back(c->def().id);
      result.space_reclaimed += size;
    }
  }
  return result;
}

void ContainerService::record_event(const Container& container, std::string action,
                                    std::map<std::string, std::string> extra) {
  images::Event e;
  e.type = "container";
  e.action = std::move(action);
  e.actor_id = container.def().id;
  if (auto labels = container.def().config.value("Labels", json()); labels.is_object())
    for (auto& [k, v] : labels.items())
      if (v.is_string()) e.attributes[k] = v.get<std::string>();
  e.attributes["image"] = container.def().image_ref;
  e.attributes["name"] = container.def().name;
  for (auto& [k, v] : extra) e.attributes[k] = std::move(v);
  (void)events_.append(std::move(e));
}

}  // namespace imaged::containers
