// Container: one container's definition, state and I/O while it runs.
//
// The definition (Definition) is fixed at create. The state moves created → running → exited
// (→ running again on a new start) and ends when the container is removed. While it runs, one
// supervisor thread (run_supervisor) owns the process: it reads its output (two pipes, or a
// terminal), keeps it for `docker logs` (bounded, oldest dropped), copies it to every attached
// client (multiplexed frames `[stream,0,0,0,len(be32)]` + payload, or raw bytes with a TTY),
// reaps the process and records the exit. Kept output is split into lines (a partial line is
// its own piece), as the json-file log driver keeps it, for `docker logs --tail/--timestamps`.
// Attached clients are sockets handed over by the HTTP layer (HTTP 101 / Upgrade: tcp); the
// supervisor shuts them down when the output ends, which is how the client learns the process
// exited.
//
// Thread safety: every method may be called from any thread; state is guarded by one mutex and
// waiters sleep on one condition variable (wait_until). Lifetime: shared_ptr, held by the table
// in ContainerService, by running handlers and by the supervisor.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/content/fd.h"

namespace imaged::containers {

enum class StreamId : std::uint8_t { Stdin = 0, Stdout = 1, Stderr = 2 };

struct Definition {
  std::string id;    // 64 hex
  std::string name;  // without the leading '/'
  int64_t created_ns = 0;
  std::string image_id;         // "sha256:…"
  std::string image_ref;        // as the client gave it
  nlohmann::json config;        // the effective Config (image defaults merged), as inspect shows
  nlohmann::json host_config;   // as given (normalised)
  std::filesystem::path dir;    // containers/<id>: rootfs/ (+ upper/ and work/ with an overlay)
  std::filesystem::path lower;  // the image's snapshot when the root is an overlay, else empty
  std::filesystem::path rootfs() const { return dir / "rootfs"; }
  std::filesystem::path upper() const { return dir / "upper"; }
  std::filesystem::path work() const { return dir / "work"; }
  // Where the container's own files live: the upper layer, or the private copy.
  std::filesystem::path own_files() const { return lower.empty() ? rootfs() : upper(); }
  bool tty() const { return config.value("Tty", false); }
  bool open_stdin() const { return config.value("OpenStdin", false); }
  bool auto_remove() const { return host_config.value("AutoRemove", false); }
};

enum class State { Created, Running, Exited, Removing };
std::string_view state_name(State state);  // "created", "running", "exited", "removing"

struct Snapshot {
  State state = State::Created;
  pid_t pid = 0;
  int exit_code = 0;
  std::string error;  // why the last start failed
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  std::uint64_t exits = 0;  // how many times it exited (or failed to start)
  bool removed = false;
};

struct OutputChunk {
  StreamId stream;
  int64_t time_ns;
  std::string data;
};

// A client attached to the container's streams. Owns the socket; shut down by the supervisor
// when the output ends (or on a failed write: the client went away).
class Attachment {
 public:
  Attachment(content::UniqueFd fd, bool stdout_wanted, bool stderr_wanted, bool multiplexed)
      : fd_(std::move(fd)), stdout_(stdout_wanted), stderr_(stderr_wanted), mux_(multiplexed) {}
  int fd() const { return fd_.get(); }
  // Writes one piece of output (framed when multiplexed); false when the client is gone.
  bool send(const OutputChunk& chunk);
  // Ends the stream: shuts the socket down both ways (a reader blocked on it returns).
  void close();
  bool closed() const { return closed_.load(); }

 private:
  content::UniqueFd fd_;
  std::atomic<bool> closed_{false};
  bool stdout_, stderr_, mux_;
  std::mutex write_mu_;
};

class Container : public std::enable_shared_from_this<Container> {
 public:
  explicit Container(Definition definition) : def_(std::move(definition)) {}
  const Definition& def() const { return def_; }
  Snapshot snapshot() const;

  // ---- transitions (ContainerService) ----
  // Marks the container running with its process and the parent ends of its streams, and
  // starts the supervisor thread. `on_exit` runs on that thread after the exit is recorded.
  struct Streams {
    content::UniqueFd stdin_write;  // when OpenStdin
    content::UniqueFd stdout_read;  // or the terminal's master side
    content::UniqueFd stderr_read;  // invalid with a terminal
  };
  void begin_running(pid_t pid, Streams streams, std::function<void(Container&)> on_exit);
  // Records a start that failed before the command ran (exit code 127/126 as dockerd); the
  // container stays "created", as with dockerd.
  void record_failed_start(int exit_code, std::string error);
  // Returns false when it was already removing.
  bool mark_removing();
  void mark_removed();
  // Sends `signal` to the process; false when it is not running.
  bool kill(int signal) const;
  // Sets the terminal size (TIOCSWINSZ on the master side); false without a running TTY.
  bool resize(unsigned short rows, unsigned short cols) const;

  // ---- clients ----
  // Registers a client for the output from now on.
  void attach(const std::shared_ptr<Attachment>& attachment);
  void detach(const std::shared_ptr<Attachment>& attachment);
  // Copies `bytes` to the process's stdin; false when it has none (not OpenStdin or closed).
  bool write_stdin(std::string_view bytes);
  // Closes the process's stdin (the client's stdin ended and StdinOnce is set).
  void close_stdin();
  // The output kept so far from index `from` on (indices are absolute: dropped chunks are
  // skipped); returns the next index.
  std::size_t output_since(std::size_t from, std::vector<OutputChunk>& out) const;

  // Blocks until `done(snapshot)` holds, `interrupted()` returns true (re-checked every 250 ms
  // and whenever notify() runs); returns the last snapshot.
  Snapshot wait_until(const std::function<bool(const Snapshot&, std::size_t output_end)>& done,
                      const std::function<bool()>& interrupted) const;
  // Wakes waiters (after an outside change such as a server stop).
  void notify() const;

  static constexpr std::size_t kMaxKeptOutput = 8 << 20;  // bytes kept for `docker logs`

 private:
  void supervise(pid_t pid, Streams streams, std::function<void(Container&)> on_exit);
  void record_output(StreamId stream, std::string data);
  void record_exit(int exit_code);

  const Definition def_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Snapshot state_;
  int terminal_fd_ = -1;  // the master side while running with a TTY (owned by the supervisor)
  content::UniqueFd stdin_;
  std::deque<OutputChunk> output_;
  std::size_t output_dropped_ = 0;  // chunks dropped from the front
  std::size_t output_bytes_ = 0;
  std::vector<std::shared_ptr<Attachment>> attachments_;
};

// The 8-byte header of a multiplexed-stream frame: [stream, 0, 0, 0, size (big endian)].
std::string frame_header(StreamId stream, std::size_t size);

// TIOCSWINSZ on a terminal's master side; false for fd -1 or a failed ioctl.
bool set_terminal_size(int fd, unsigned short rows, unsigned short cols);

// dockerd's exit code for a process ended by `status` (waitpid): the code, or 128 + signal.
int exit_code_of(int status);

}  // namespace imaged::containers
