#include "common/containers/launcher.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <tuple>

#include "common/containers/container.h"

namespace imaged::containers {

namespace {

// docker's default capabilities (moby oci/caps/defaults.go).
constexpr std::array kDefaultCaps = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

// moby's oci.DefaultSpec: files hidden from the container, and kernel knobs it may only read.
constexpr std::array kMaskedPaths = {"/proc/asound",      "/proc/acpi",          "/proc/kcore",
                                     "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                                     "/proc/timer_stats", "/proc/sched_debug",   "/proc/scsi",
                                     "/sys/firmware"};
constexpr std::array kReadOnlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                       "/proc/sysrq-trigger"};

// What failed in the child, sent over the error pipe.
enum class Step : int {
  Streams,
  Mounts,
  Devices,
  Root,
  Binds,
  Terminal,
  Hostname,
  Network,
  Caps,
  Ids,
  Exec,
  Namespaces
};  // kStepNames below follows this order

struct ChildFailure {
  Step step;
  int err;
};

struct Device {
  std::string path;  // inside the rootfs, absolute on the host
  unsigned major;
  unsigned minor;
};

struct PreparedBind {
  std::string source;
  std::vector<std::string> target_dirs;  // the target's parents, outermost first (after pivot)
  std::string target;                    // inside the container
  bool is_dir;
  bool read_only;
};

// Everything the child touches, built before clone(): the child only reads it.
struct Plan {
  const ProcessSpec* spec;
  std::string rootfs, proc, dev, pts, ptmx, shm, sys;
  std::string overlay_options;  // "lowerdir=…,upperdir=…,workdir=…" or "" (bind the rootfs)
  std::vector<Device> devices;
  std::vector<std::pair<std::string, std::string>> dev_links;  // target, link path
  std::vector<PreparedBind> binds;
  std::vector<std::string> masked, read_only;  // under the rootfs
  std::vector<std::string> workdir_dirs;
  std::vector<std::string> candidates;
  std::vector<char*> argv, envp;
  std::uint64_t cap_mask = 0;
  int last_cap = 40;
  int error_fd = -1;
  int console_fd = -1;          // with a terminal: where the child sends its master side
  std::vector<int> namespaces;  // exec: the container's ipc, uts, net, pid, mnt (in that order)
};

[[noreturn]] void child_fail(const Plan& plan, Step step, int err) {
  ChildFailure failure{step, err};
  (void)!::write(plan.error_fd, &failure, sizeof failure);
  ::_exit(127);
}

// mkdir for each of `dirs` (outermost first), ignoring EEXIST.
bool make_dirs(const std::vector<std::string>& dirs) {
  for (const auto& d : dirs)
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return false;
  return true;
}

bool setup_devices(const Plan& p) {
  if (::mount("tmpfs", p.dev.c_str(), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"))
    return false;
  for (const auto& d : p.devices)
    if (::mknod(d.path.c_str(), S_IFCHR | 0666, makedev(d.major, d.minor)) != 0) return false;
  // mknod honours the umask; the devices must be 0666.
  for (const auto& d : p.devices) ::chmod(d.path.c_str(), 0666);
  if (::mkdir(p.pts.c_str(), 0755) != 0 ||
      ::mount("devpts", p.pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620,gid=5"))
    return false;
  if (::mkdir(p.shm.c_str(), 01777) != 0 ||
      ::mount("shm", p.shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=1777,size=65536k"))
    return false;
  for (const auto& [target, link] : p.dev_links)
    if (::symlink(target.c_str(), link.c_str()) != 0) return false;
  return true;
}

bool bring_up_loopback() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, "lo", 3);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  ::close(fd);
  return ok;
}

bool limit_capabilities(const Plan& p) {
  for (int cap = 0; cap <= p.last_cap; ++cap)
    if (!(p.cap_mask & (std::uint64_t{1} << cap)) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
        errno != EINVAL)
      return false;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    auto bits = static_cast<std::uint32_t>(p.cap_mask >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = bits;
  }
  return ::syscall(SYS_capset, &header, data) == 0;
}

// A one-byte message with room for one descriptor (SCM_RIGHTS); no allocation, so the child
// may build one.
struct FdMessage {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
  msghdr msg{};
  FdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;
};

// In the container's /dev/pts (after pivot_root): a new terminal; its master side goes to the
// parent over the console socket (SCM_RIGHTS), its slave side becomes the controlling terminal
// and fds 0, 1, 2.
bool open_terminal(const Plan& p) {
  int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  int unlock = 0;
  unsigned number = 0;
  if (master < 0 || ::ioctl(master, TIOCSPTLCK, &unlock) != 0 ||
      ::ioctl(master, TIOCGPTN, &number) != 0)
    return false;
  if (p.spec->tty_rows > 0) set_terminal_size(master, p.spec->tty_rows, p.spec->tty_cols);
  char path[32] = "/dev/pts/";
  char digits[12];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + number % 10);
  while ((number /= 10) != 0);
  std::size_t len = 9;
  while (n > 0) path[len++] = digits[--n];
  path[len] = '\0';
  int slave = ::open(path, O_RDWR | O_NOCTTY);
  if (slave < 0) return false;
  FdMessage m;
  cmsghdr* cm = CMSG_FIRSTHDR(&m.msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &master, sizeof(int));
  if (::sendmsg(p.console_fd, &m.msg, MSG_NOSIGNAL) != 1) return false;
  ::close(master);
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) return false;
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave, fd) < 0) return false;
  if (slave > 2) ::close(slave);
  return true;
}

// The master side the child sent, or an invalid fd when it failed before sending.
content::UniqueFd receive_terminal(int socket) {
  FdMessage m;
  ssize_t n;
  do n = ::recvmsg(socket, &m.msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  cmsghdr* cm = n == 1 ? CMSG_FIRSTHDR(&m.msg) : nullptr;
  if (!cm || cm->cmsg_type != SCM_RIGHTS) return {};
  int fd;
  std::memcpy(&fd, CMSG_DATA(cm), sizeof(int));
  return content::UniqueFd(fd);
}

// Open-tree clones of the bind sources, taken before pivot_root (while host paths resolve).
constexpr int kMaxBinds = 64;

// A new session with the standard streams (a terminal comes once the container's /dev/pts is
// reachable), no inherited descriptor of the daemon, default signal handling.
void enter_session(const Plan& p) {
  const ProcessSpec& s = *p.spec;
  if (::setsid() < 0) child_fail(p, Step::Streams, errno);
  if (!s.tty &&
      (::dup2(s.stdin_fd, 0) < 0 || ::dup2(s.stdout_fd, 1) < 0 || ::dup2(s.stderr_fd, 2) < 0))
    child_fail(p, Step::Streams, errno);
  // The daemon's own descriptors (sockets, meta.db) must not reach the command; the error pipe
  // stays open until execve.
  if (::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    child_fail(p, Step::Streams, errno);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Inside the container's root: working directory, capabilities, user, then the command.
[[noreturn]] void become_command(const Plan& p) {
  const ProcessSpec& s = *p.spec;
  if (!make_dirs(p.workdir_dirs) || ::chdir(s.working_dir.c_str()) != 0)
    child_fail(p, Step::Root, errno);
  if (!limit_capabilities(p)) child_fail(p, Step::Caps, errno);
  if (::syscall(SYS_setgroups, s.groups.size(), s.groups.data()) != 0 ||
      ::syscall(SYS_setresgid, s.gid, s.gid, s.gid) != 0 ||
      ::syscall(SYS_setresuid, s.uid, s.uid, s.uid) != 0)
    child_fail(p, Step::Ids, errno);
  int err = ENOENT;
  for (const auto& path : p.candidates) {
    ::execve(path.c_str(), p.argv.data(), p.envp.data());
    // As Go's exec.LookPath: keep searching past missing or non-executable entries, but report
    // "permission denied" when that was all there was.
    if (errno == EACCES)
      err = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR)
      err = errno;
  }
  child_fail(p, Step::Exec, err);
}

// The first process of a new container.
int child_main(void* arg) {
  const Plan& p = *static_cast<const Plan*>(arg);
  const ProcessSpec& s = *p.spec;
  enter_session(p);

  // Mounts: nothing propagates back to the host; the rootfs becomes a mount point.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      (p.overlay_options.empty()
           ? ::mount(p.rootfs.c_str(), p.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr)
           : ::mount("overlay", p.rootfs.c_str(), "overlay", 0, p.overlay_options.c_str())) != 0 ||
      ::mount("proc", p.proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    child_fail(p, Step::Mounts, errno);
  if (!setup_devices(p)) child_fail(p, Step::Devices, errno);
  if (::mount("sysfs", p.sys.c_str(), "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
              nullptr) != 0)
    child_fail(p, Step::Mounts, errno);
  // docker's masked and read-only /proc paths (what exists of them).
  for (const auto& path : p.masked)
    if (::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr) != 0 && errno == ENOTDIR)
      ::mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY, nullptr);  // a directory
  for (const auto& path : p.read_only)
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0)
      ::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, nullptr);

  std::array<int, kMaxBinds> trees{};
  for (std::size_t i = 0; i < p.binds.size(); ++i) {
    trees[i] = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, p.binds[i].source.c_str(),
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (trees[i] < 0) child_fail(p, Step::Binds, errno);
  }

  if (::chdir(p.rootfs.c_str()) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
      ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0)
    child_fail(p, Step::Root, errno);

  // Bind targets resolve inside the container now: an image's symlink cannot point them at the
  // host.
  for (std::size_t i = 0; i < p.binds.size(); ++i) {
    const auto& b = p.binds[i];
    if (!make_dirs(b.target_dirs)) child_fail(p, Step::Binds, errno);
    if (b.is_dir) {
      if (::mkdir(b.target.c_str(), 0755) != 0 && errno != EEXIST)
        child_fail(p, Step::Binds, errno);
    } else {
      int fd = ::open(b.target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) child_fail(p, Step::Binds, errno);
      ::close(fd);
    }
    if (::syscall(SYS_move_mount, trees[i], "", AT_FDCWD, b.target.c_str(),
                  MOVE_MOUNT_F_EMPTY_PATH) != 0)
      child_fail(p, Step::Binds, errno);
    if (b.read_only &&
        ::mount(nullptr, b.target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      child_fail(p, Step::Binds, errno);
  }

  if (s.tty && !open_terminal(p)) child_fail(p, Step::Terminal, errno);
  if (!s.hostname.empty() && ::sethostname(s.hostname.data(), s.hostname.size()) != 0)
    child_fail(p, Step::Hostname, errno);
  if (!s.host_network && !bring_up_loopback()) child_fail(p, Step::Network, errno);
  become_command(p);
}

// A process joining a running container (docker exec): its namespaces, then a fork, since a
// PID namespace applies to children only. This first child waits for the second and exits with
// its status, so the daemon reaps one process.
int exec_child_main(void* arg) {
  const Plan& p = *static_cast<const Plan*>(arg);
  for (int fd : p.namespaces)
    if (::setns(fd, 0) != 0) child_fail(p, Step::Namespaces, errno);
  pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  if (pid < 0) child_fail(p, Step::Namespaces, errno);
  if (pid == 0) {
    enter_session(p);
    if (p.spec->tty && !open_terminal(p)) child_fail(p, Step::Terminal, errno);
    become_command(p);
  }
  // This process execs nothing: it must not keep the daemon's descriptors (the write end of
  // the command's stdin, the error pipe the parent reads until the command runs) open.
  ::syscall(SYS_close_range, 0, ~0U, 0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) ::kill(::getpid(), WTERMSIG(status));
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

// "/a/b/c" → {"/a", "/a/b"} (+ "/a/b/c" when `include_self`).
std::vector<std::string> parents_of(const std::string& path, bool include_self) {
  std::vector<std::string> out;
  for (std::size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1))
    out.push_back(path.substr(0, pos));
  if (include_self && path.size() > 1) out.push_back(path);
  return out;
}

int read_last_cap() {
  int fd = ::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 40;
  char buf[16]{};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return n > 0 ? std::atoi(buf) : 40;
}

Error exec_error(std::string_view prefix, const std::string& command, bool searched, int err) {
  std::string why;
  if (err == ENOENT && searched)
    why = "exec: \"" + command + "\": executable file not found in $PATH";
  else if (err == ENOENT)
    why = "exec: \"" + command + "\": stat " + command + ": no such file or directory";
  else
    why = "exec: \"" + command + "\": " + std::strerror(err);
  return Error{Errc::InvalidArgument,
               std::string(prefix) + "unable to start container process: " + why + ": unknown"};
}

// Messages for Step, in its order.
constexpr std::array<const char*, 12> kStepNames = {"setting up the standard streams",
                                                    "mounting the root filesystem",
                                                    "creating /dev",
                                                    "entering the root filesystem",
                                                    "bind mounting a volume",
                                                    "allocating a terminal",
                                                    "setting the hostname",
                                                    "bringing up the loopback interface",
                                                    "limiting capabilities",
                                                    "setting the user",
                                                    "executing the command",
                                                    "entering the container's namespaces"};

// What both launches share: the command line and identity (prepared here), the error pipe and
// the console socket, the clone, and the wait for execve (or the child's failure report).
Result<Process> run_child(Plan& p, int (*fn)(void*), int flags, std::string_view error_prefix) {
  const ProcessSpec& spec = *p.spec;
  p.workdir_dirs = parents_of(spec.working_dir, true);
  p.candidates = executable_candidates(spec.args[0], spec.env);
  for (const auto& a : spec.args) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  for (const auto& e : spec.env) p.envp.push_back(const_cast<char*>(e.c_str()));
  p.envp.push_back(nullptr);
  for (int cap : kDefaultCaps) p.cap_mask |= std::uint64_t{1} << cap;
  p.last_cap = read_last_cap();

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail(content::errno_error(errno, "pipe"));
  content::UniqueFd error_read(pipe_fds[0]), error_write(pipe_fds[1]);
  p.error_fd = error_write.get();
  content::UniqueFd console_parent, console_child;
  if (spec.tty) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
      return fail(content::errno_error(errno, "socketpair"));
    console_parent.reset(pair[0]);
    console_child.reset(pair[1]);
    p.console_fd = console_child.get();
  }

  constexpr std::size_t kStack = 256 * 1024;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) return fail(content::errno_error(errno, "allocating a stack"));
  pid_t pid = ::clone(fn, static_cast<char*>(stack) + kStack, flags, &p);
  int clone_errno = errno;
  ::munmap(stack, kStack);
  if (pid < 0) return fail(content::errno_error(clone_errno, "creating the container's process"));
  error_write.reset();
  console_child.reset();
  Process process{pid, {}};
  if (spec.tty) process.terminal = receive_terminal(console_parent.get());

  ChildFailure failure{};
  ssize_t n;
  do n = ::read(error_read.get(), &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  if (n == 0) return process;  // the pipe closed on execve
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof failure) return fail(Errc::Internal, "the container process failed to start");
  if (failure.step == Step::Exec)
    return fail(exec_error(error_prefix, spec.args[0], spec.args[0].find('/') == std::string::npos,
                           failure.err));
  auto step = static_cast<std::size_t>(failure.step);
  return fail(Errc::Internal, std::string("starting the container: ") +
                                  (step < kStepNames.size() ? kStepNames[step] : "?") + ": " +
                                  std::strerror(failure.err));
}

}  // namespace

std::vector<std::string> executable_candidates(const std::string& command,
                                               const std::vector<std::string>& env) {
  if (command.find('/') != std::string::npos) return {command};
  std::string path_var(kDefaultPath);
  for (const auto& kv : env)
    if (kv.starts_with("PATH=")) path_var = kv.substr(5);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    out.push_back((dir.empty() ? std::string(".") : dir) + "/" + command);
    start = end + 1;
  }
  return out;
}

Result<Process> launch(const ProcessSpec& spec) {
  if (spec.args.empty()) return fail(Errc::InvalidArgument, "no command specified");
  if (spec.binds.size() > kMaxBinds) return fail(Errc::InvalidArgument, "too many bind mounts");
  Plan p;
  p.spec = &spec;
  p.rootfs = spec.rootfs.string();
  p.proc = p.rootfs + "/proc";
  p.dev = p.rootfs + "/dev";
  p.pts = p.dev + "/pts";
  p.shm = p.dev + "/shm";
  p.sys = p.rootfs + "/sys";
  for (auto [name, major, minor] : {std::tuple{"null", 1u, 3u},
                                    {"zero", 1u, 5u},
                                    {"full", 1u, 7u},
                                    {"random", 1u, 8u},
                                    {"urandom", 1u, 9u},
                                    {"tty", 5u, 0u}})
    p.devices.push_back({p.dev + "/" + name, major, minor});
  p.dev_links = {{"pts/ptmx", p.dev + "/ptmx"},
                 {"/proc/self/fd", p.dev + "/fd"},
                 {"/proc/self/fd/0", p.dev + "/stdin"},
                 {"/proc/self/fd/1", p.dev + "/stdout"},
                 {"/proc/self/fd/2", p.dev + "/stderr"}};
  // The mount points must exist in the root (with an overlay: in its upper layer).
  std::string top = spec.overlay ? spec.overlay->upper.string() : p.rootfs;
  for (const char* dir : {"/proc", "/dev", "/sys"}) {
    std::error_code ec;
    std::filesystem::create_directories(top + dir, ec);
    if (ec) return fail(Errc::Internal, "creating " + top + dir + ": " + ec.message());
  }
  if (spec.overlay)
    p.overlay_options = "lowerdir=" + spec.overlay->lower.string() +
                        ",upperdir=" + spec.overlay->upper.string() +
                        ",workdir=" + spec.overlay->work.string();
  for (const auto& b : spec.binds) {
    struct stat st {};
    if (::stat(b.source.c_str(), &st) != 0)
      return fail(Errc::InvalidArgument,
                  "invalid mount config: bind source path does not exist: " + b.source);
    p.binds.push_back(
        {b.source, parents_of(b.target, false), b.target, S_ISDIR(st.st_mode), b.read_only});
  }
  for (const char* path : kMaskedPaths) p.masked.push_back(p.rootfs + path);
  for (const char* path : kReadOnlyPaths) p.read_only.push_back(p.rootfs + path);
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  if (!spec.host_network) flags |= CLONE_NEWNET;
  return run_child(p, child_main, flags, "failed to create task for container: ");
}

Result<Process> launch_exec(pid_t container, const ProcessSpec& spec) {
  if (spec.args.empty()) return fail(Errc::InvalidArgument, "No exec command specified");
  Plan p;
  p.spec = &spec;
  std::vector<content::UniqueFd> namespaces;
  for (const char* ns : {"ipc", "uts", "net", "pid", "mnt"}) {
    std::string path = "/proc/" + std::to_string(container) + "/ns/" + ns;
    content::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(Errc::Conflict, "the container is not running (" + path + ")");
    p.namespaces.push_back(fd.get());
    namespaces.push_back(std::move(fd));
  }
  return run_child(p, exec_child_main, SIGCHLD, "OCI runtime exec failed: exec failed: ");
}

}  // namespace imaged::containers
