// RecordingWriter: an in-memory ResponseWriter for unit tests of handlers (no sockets).
// Records the status, headers, content type and body (chunks concatenated, also kept apart).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/interrupt_list.h"
#include "api/response_writer.h"

namespace imaged::api {

class RecordingWriter final : public ResponseWriter {
 public:
  void add_header(std::string name, std::string value) override;
  bool send(int status, std::string_view content_type, std::string body) override;
  bool begin_stream(int status, std::string_view content_type) override;
  bool write(std::string_view data) override;
  bool end() override;
  void abort() override { aborted = true; }
  bool started() const override { return status != 0; }
  bool canceled() const override { return cancel; }
  bool stopping() const override { return stop; }
  InterruptHandle on_interrupt(std::function<void()> fn) override {
    return interrupts_->add(std::move(fn));
  }
  // Simulates the client going away (cancel = true) and fires the interrupt callbacks.
  void interrupt_cancel() {
    cancel = true;
    interrupts_->fire();
  }
  // Simulates a graceful stop (stop = true) and fires the interrupt callbacks.
  void interrupt_stop() {
    stop = true;
    interrupts_->fire();
  }

  // The value of a recorded header ("" when absent); case-sensitive on purpose.
  std::string header(std::string_view name) const;

  int status = 0;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                 // whole body (send) or all chunks (stream)
  std::vector<std::string> chunks;  // stream writes, in order
  bool streaming = false;
  bool ended = false;
  bool aborted = false;
  bool cancel = false;  // set by a test to simulate a client that went away
  bool stop = false;    // set by a test to simulate a graceful stop

 private:
  std::shared_ptr<InterruptList> interrupts_ = std::make_shared<InterruptList>();
};

}  // namespace imaged::api
