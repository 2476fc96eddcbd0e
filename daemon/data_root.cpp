#include "daemon/data_root.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace imaged::daemon {

namespace fs = std::filesystem;

namespace {

Status make_dir(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return fail(ec == std::errc::permission_denied ? Errc::PermissionDenied : Errc::Internal,
                "cannot create " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), mode) != 0)
    return fail(Errc::PermissionDenied,
                "cannot chmod " + dir.string() + ": " + std::strerror(errno));
  return {};
}

std::string random_uuid() {
  unsigned char b[16];
  if (::getrandom(b, sizeof(b), 0) != static_cast<ssize_t>(sizeof(b))) {
    for (auto& c : b) c = static_cast<unsigned char>(std::rand());
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace

Status prepare_data_root(const fs::path& root) {
  IMAGED_TRY(make_dir(root, 0700));
  IMAGED_TRY(make_dir(root / "blobs", 0700));
  IMAGED_TRY(make_dir(root / "ingest", 0700));
  return {};
}

Result<std::string> load_engine_id(const fs::path& root) {
  fs::path file = root / "engine-id";
  {
    std::ifstream in(file);
    std::string id;
    if (in && std::getline(in, id) && id.size() >= 8) return id;
  }
  std::string id = random_uuid();
  fs::path tmp = root / "engine-id.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(Errc::Internal, "cannot write " + tmp.string() + ": " + std::strerror(errno));
  std::string line = id + "\n";
  // No fsync: after a power loss the file is whole (rename is atomic) or empty/missing, and an
  // unreadable id is simply made again above. The id only labels the daemon in /info.
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0)
    return fail(Errc::Internal, "cannot write " + file.string() + ": " + std::strerror(errno));
  return id;
}

}  // namespace imaged::daemon
