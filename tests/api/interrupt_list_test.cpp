#include "api/interrupt_list.h"

#include <catch2/catch.hpp>

#include "api/recording_writer.h"

using imaged::api::InterruptList;

TEST_CASE("interrupts: callbacks fire once", "[api]") {
  auto list = std::make_shared<InterruptList>();
  int calls = 0;
  auto h = list->add([&] { ++calls; });
  list->fire();
  list->fire();
  CHECK(calls == 1);
  CHECK(list->fired());
}

TEST_CASE("interrupts: registering after the fact calls at once", "[api]") {
  auto list = std::make_shared<InterruptList>();
  list->fire();
  int calls = 0;
  auto h = list->add([&] { ++calls; });
  CHECK(calls == 1);
}

TEST_CASE("interrupts: a dropped handle or a disarmed list calls nothing", "[api]") {
  auto list = std::make_shared<InterruptList>();
  int calls = 0;
  {
    auto h = list->add([&] { ++calls; });
  }
  list->fire();
  CHECK(calls == 0);

  auto other = std::make_shared<InterruptList>();
  auto h = other->add([&] { ++calls; });
  other->disarm();
  other->fire();
  CHECK(calls == 0);
  auto late = other->add([&] { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("interrupts: a handle may outlive its list", "[api]") {
  std::shared_ptr<void> h;
  {
    auto list = std::make_shared<InterruptList>();
    h = list->add([] {});
  }
  h.reset();  // no crash
  SUCCEED();
}

TEST_CASE("interrupts: RecordingWriter simulates a client leaving and a stop", "[api]") {
  imaged::api::RecordingWriter w;
  int calls = 0;
  auto h = w.on_interrupt([&] { ++calls; });
  w.interrupt_stop();
  CHECK(w.stopping());
  CHECK_FALSE(w.canceled());
  CHECK(calls == 1);
}
