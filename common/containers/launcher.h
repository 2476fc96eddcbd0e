// Launcher: starts one container process, isolated the way `docker run` isolates it on a host
// without cgroups or seccomp policy: new mount, PID, UTS and IPC namespaces (and a network
// namespace with only a loopback interface unless the host network is asked for), the rootfs as
// its root (pivot_root), a fresh /proc, a minimal /dev (null zero full random urandom tty, pts,
// shm), a read-only /sys, bind mounts, the hostname, the user and groups, and docker's default
// capability set (anything else is dropped from the bounding set too).
//
// The daemon is multithreaded, so the child of clone(2) runs only async-signal-safe code:
// everything it needs (paths, argv, envp, the candidate paths of the executable) is prepared by
// launch() before the clone. A close-on-exec pipe reports a failure of the child before its
// execve (the step and errno); on success launch() returns once the process runs the command.
// The process is PID 1 of its namespace: when it exits, the kernel kills what it left behind.
//
// Requires root (CAP_SYS_ADMIN); errors name what failed.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/content/fd.h"
#include "common/error.h"

namespace imaged::containers {

struct BindMount {
  std::string source;  // host path
  std::string target;  // absolute path inside the container
  bool read_only = false;
};

// The root as an overlay: a read-only snapshot below, the container's own directory above.
struct Overlay {
  std::filesystem::path lower, upper, work;
};

struct ProcessSpec {
  // Absolute. Without `overlay`, the prepared root (layers unpacked); with it, the empty
  // directory the overlay is mounted on, inside the container's mount namespace only (nothing
  // stays mounted on the host when the container ends).
  std::filesystem::path rootfs;
  std::optional<Overlay> overlay;
  std::vector<std::string> args;  // args[0] is the command as given (PATH-searched)
  std::vector<std::string> env;   // "K=V"; PATH is used for the search
  std::string working_dir = "/";  // absolute; created inside the rootfs when missing
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  std::string hostname;
  bool host_network = false;  // false: new network namespace with `lo` up
  std::vector<BindMount> binds;
  // The child's standard streams (dup2'ed to 0, 1, 2), unless `tty`: then the terminal is
  // allocated in the container's own /dev/pts (so ttyname() works inside), its slave side
  // becomes the three streams and the controlling terminal of a new session, and its master
  // side is handed back in Process::terminal.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  bool tty = false;
  unsigned short tty_rows = 0, tty_cols = 0;  // the terminal's initial size (0: unset)
};

// A started process. The caller reaps it (waitpid).
struct Process {
  pid_t pid = -1;
  content::UniqueFd terminal;  // the master side of its terminal, with `tty`
};

// Starts `spec`. Errors: InvalidArgument with the message dockerd's runtime gives when the
// command cannot be executed ("exec: \"x\": executable file not found in $PATH", "... permission
// denied"), so the docker CLI exits 127/126 as with dockerd; Internal for a failed namespace,
// mount or id step (the message names it).
Result<Process> launch(const ProcessSpec& spec);

// Starts `spec` inside the running container whose first process is `container` (docker exec):
// its namespaces and root; `rootfs`, `overlay`, `binds`, `hostname` and `host_network` are not
// used. Errors as launch() ("OCI runtime exec failed: exec failed: ..." for a command that
// cannot run); Conflict when the container is no longer running.
Result<Process> launch_exec(pid_t container, const ProcessSpec& spec);

// The PATH of a process whose environment has none (runc's and dockerd's default).
inline constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The candidate paths execve() tries for `command` given the PATH of `env` (a command with a '/'
// is tried as is). Exposed for tests.
std::vector<std::string> executable_candidates(const std::string& command,
                                               const std::vector<std::string>& env);

}  // namespace imaged::containers
