// A temporary directory removed (recursively) when the object dies. Tests only.
#pragma once

#include <filesystem>
#include <string>

namespace imaged::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "imaged-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

}  // namespace imaged::testing
