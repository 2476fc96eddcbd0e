// ContainerService: the containers of `docker run`, `docker create/start/stop/kill/rm/ps/logs`,
// enough of dockerd's container model for running a command in an image (engine-api.md §4).
//
// A container's root is an overlay of its image's snapshot (snapshots.h: the layers unpacked
// once per image) and a directory of its own, mounted in the container's mount namespace only;
// where overlayfs does not work, it gets a private copy of the layers (rootfs.h). Its
// /etc/hostname, /etc/hosts and /etc/resolv.conf are written for it; the process runs isolated
// by launcher.h. There is no bridge network: "host" shares the host's
// network, every other mode gets a private loopback-only namespace ("none"). Containers live in
// memory: a daemon restart (or crash) removes them and their directories (the start-up sweep),
// and a stop of the daemon kills what runs (dockerd without live-restore stops them too).
//
// Names: the name a user gave (or a generated "adjective_surname"), a full ID, or a unique ID
// prefix, as dockerd resolves them. Errors carry dockerd's texts: NotFound "No such container:
// x", Conflict for a name in use or a running container removed without force, InvalidArgument
// for bad configs.
//
// Events (type "container", in the image event log): create, start, attach, die (exitCode),
// kill (signal), stop, destroy, "exec_create: <cmd>", "exec_start: <cmd>", exec_die (execID,
// exitCode); Attributes image, name and the container's labels.
//
// Thread safety: every method may be called from any thread; they block (disk, processes).
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/containers/container.h"
#include "common/containers/exec.h"
#include "common/containers/snapshots.h"
#include "common/error.h"
#include "common/images/image_users.h"

namespace imaged::content {
class Provider;
}
namespace imaged::images {
class EventLog;
class ImageService;
}  // namespace imaged::images

namespace imaged::containers {

struct CreateRequest {
  std::string name;            // ?name=, may be empty (one is generated) or start with '/'
  nlohmann::json config;       // the body: Config fields at the top level
  nlohmann::json host_config;  // body.HostConfig
};

struct Created {
  std::string id;
  std::vector<std::string> warnings;
};

struct PruneResult {
  std::vector<std::string> deleted;
  int64_t space_reclaimed = 0;
};

class ContainerService final : public images::ImageUsers {
 public:
  // `dir` is <data-root>/containers (what a previous run left there is removed), `snapshots`
  // <data-root>/snapshots (kept, but those of images no longer stored are removed).
  ContainerService(images::ImageService& images, content::Provider& content,
                   images::EventLog& events, std::filesystem::path dir,
                   std::filesystem::path snapshots);
  // Kills running containers and removes every container directory.
  ~ContainerService() override;
  ContainerService(const ContainerService&) = delete;
  ContainerService& operator=(const ContainerService&) = delete;

  // NotFound "No such image: <ref>" when the image is missing (the CLI then pulls it),
  // Conflict for a name in use, InvalidArgument for a bad config or name.
  Result<Created> create(const CreateRequest& request);
  Result<std::shared_ptr<Container>> find(std::string_view name) const;
  // All containers, newest first.
  std::vector<std::shared_ptr<Container>> list() const;

  // Starts the process. Returns false when it was already running (dockerd's 304).
  Result<bool> start(std::string_view name);
  // Signals the process (`signal` "" = SIGKILL; a name as "TERM"/"SIGTERM" or a number).
  // Conflict "Container x is not running" when it is not.
  Status kill(std::string_view name, std::string_view signal);
  // StopSignal (or `signal`), then SIGKILL after `timeout_s` (default 10). Returns false when it
  // was not running (304).
  Result<bool> stop(std::string_view name, std::optional<int> timeout_s,
                    std::string_view signal = {});
  // Conflict when running and not `force`.
  Status remove(std::string_view name, bool force);
  // Removes every stopped container.
  Result<PruneResult> prune();

  // ---- docker exec ----
  // Conflict "Container x is not running"; InvalidArgument "No exec command specified".
  Result<std::string> create_exec(std::string_view container, ExecConfig config);
  // NotFound "No such exec instance: x".
  Result<std::shared_ptr<Exec>> find_exec(std::string_view id) const;
  // Starts the exec's process (once: Conflict after), its terminal sized rows x cols (0: unset);
  // the caller runs Exec::pump and then record_exec_exit.
  Result<ExecProcess> start_exec(Exec& exec, unsigned short rows = 0, unsigned short cols = 0);
  void record_exec_exit(const Exec& exec, int exit_code);
  // Runs Exec::pump with no client on a thread of its own (docker exec -d), then records the
  // exit; the destructor waits for it like for a container's supervisor.
  void pump_detached(std::shared_ptr<Exec> exec, ExecProcess process);

  // ImageUsers: a running container of the image first, else any.
  std::optional<images::ImageUser> user_of(std::string_view image_id) const override;

  // Records a container event (the API layer records "attach").
  void record_event(const Container& container, std::string action,
                    std::map<std::string, std::string> extra = {});

 private:
  void on_exit(Container& container);
  Status remove_container(const std::shared_ptr<Container>& container);
  // Prepares the root (sets def.lower with an overlay) and the /etc files.
  Status prepare_rootfs(Definition& def);
  std::string unique_name();

  images::ImageService& images_;
  content::Provider& content_;
  images::EventLog& events_;
  std::filesystem::path dir_;
  Snapshots snapshots_;
  std::once_flag overlay_probe_;
  bool overlay_ = false;  // set once by the probe (first create)
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Container>> by_id_;  // guarded by mu_
  std::unordered_map<std::string, std::shared_ptr<Exec>> execs_;  // guarded by mu_; dropped with
                                                                  // their container
  std::map<std::string, std::string> preparing_names_;  // name → ID while created; by mu_
  bool stopping_ = false;  // guarded by mu_: no new process once the destructor runs
  int supervisors_ = 0;    // guarded by mu_: supervisor threads that may still call on_exit
  std::condition_variable supervisors_done_;
};

// A signal by name ("KILL", "SIGKILL") or number; nullopt when unknown.
std::optional<int> parse_signal(std::string_view text);

}  // namespace imaged::containers
