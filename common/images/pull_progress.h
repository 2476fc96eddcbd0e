// PullProgress: the progress lines of one pull, in dockerd's order and shape (engine-api.md §2
// "Pull stream from the capture"), shared by the pull's threads.
//
//  - plain messages: "Pulling from library/busybox" (id = tag or full digest reference),
//    "Digest: sha256:...", "Status: ...";
//  - per layer (id = the first 12 hex of the compressed digest): "Pulling fs layer" or
//    "Already exists", "Waiting", "Downloading" with current/total (throttled as dockerd's
//    progress reader: a step of min(512 KiB, 1 % of the size) and at most one line per interval,
//    plus the last one at the total), "Verifying Checksum", "Download complete", then
//    "Pull complete" in layer order (a layer completes only after the ones below it, as dockerd
//    registers them).
//  - statuses that arrive out of order or twice (a follower of a shared download may see a later
//    state first) are completed with the missing earlier lines, never repeated.
//
// When the sink returns false (the client is gone), nothing more is sent and `on_gone` is
// called once. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/images/image_service.h"

namespace imaged::images {

struct LayerStatus {
  enum Phase { Waiting, Downloading, Verifying, Complete } phase = Waiting;
  int64_t current = 0;
  int64_t total = 0;
};

class PullProgress {
 public:
  using Clock = std::chrono::steady_clock;

  PullProgress(ProgressSink sink, std::function<void()> on_gone,
               std::chrono::milliseconds interval = std::chrono::milliseconds(100));

  void message(const std::string& id, const std::string& status);
  void update(const std::string& id, const std::string& status);

  // Declares the layers of the image (short ids, in order); `pending[i]` false for layers that
  // need no download (they never get "Pull complete").
  void set_layers(std::vector<std::string> ids, std::vector<bool> pending);
  // One status of layer i (see the ordering rules above).
  void layer_status(size_t i, const LayerStatus& status);
  // "Retrying in N seconds" and the like for layer i.
  void layer_note(size_t i, const std::string& status);
  // Layer i is stored: sends "Pull complete" for it and every later layer now unblocked.
  void layer_done(size_t i);

  // True once a line reached the sink (errors must then go in-stream).
  bool started() const;
  bool gone() const;

 private:
  struct Layer {
    std::string id;
    bool pending = true;
    int phase = -1;  // last LayerStatus::Phase sent, -1 none
    int64_t sent_current = -1;
    Clock::time_point sent_at{};
    bool done = false;
  };

  // Caller holds mu_.
  void send(const Progress& p);
  // Releases mu_, then calls on_gone_ if send() found the client gone.
  void unlock_and_notify(std::unique_lock<std::mutex>& lock);
  void downloading(Layer& l, int64_t current, int64_t total, bool force);

  ProgressSink sink_;
  std::function<void()> on_gone_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  bool started_ = false;
  bool gone_ = false;
  bool fire_gone_ = false;
  std::vector<Layer> layers_;
  size_t next_complete_ = 0;  // first layer whose "Pull complete" is not out yet
};

// dockerd's step between "Downloading" lines: min(512 KiB, 1 % of the size).
int64_t progress_step(int64_t total);

}  // namespace imaged::images
