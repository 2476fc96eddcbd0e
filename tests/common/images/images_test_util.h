// Helpers shared by the image service tests.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/images/types.h"
#include "tests/support/image_fixture.h"

namespace imaged::images::testing {

using imaged::testing::ImageSpec;
using imaged::testing::ImportedImage;
using imaged::testing::LayerSpec;
using imaged::testing::StoreFixture;

template <class T>
T must(Result<T> r) {
  if (!r) FAIL("unexpected error: " << r.error().message);
  return std::move(*r);
}
inline void must(Status s) {
  if (!s) FAIL("unexpected error: " << s.error().message);
}

// The error of a call that must fail.
template <class T>
Error error_of(Result<T> r) {
  if (r) FAIL("expected an error");
  return r.error();
}
inline Error error_of(Status s) {
  if (s) FAIL("expected an error");
  return s.error();
}

// "Untagged: x" / "Deleted: y" lines, as the docker CLI prints a DELETE answer.
inline std::vector<std::string> lines(const std::vector<DeleteItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items)
    out.push_back((i.kind == DeleteItem::Kind::Untagged ? "Untagged: " : "Deleted: ") + i.ref);
  return out;
}

// A simple image: one layer with these bytes.
inline ImageSpec simple(std::vector<std::string> tags, std::string layer = "busybox layer",
                        std::string salt = {}) {
  ImageSpec s;
  s.layers = {LayerSpec{std::move(layer)}};
  s.tags = std::move(tags);
  s.salt = std::move(salt);
  return s;
}

}  // namespace imaged::images::testing
