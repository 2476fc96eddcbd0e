#include "common/content/fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace imaged::content {

void UniqueFd::reset(int fd) {
  // close(2) must not be retried on EINTR on Linux: the descriptor is released regardless.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Error errno_error(int err, std::string_view what) {
  Errc code = Errc::Internal;
  switch (err) {
    case ENOENT:
      code = Errc::NotFound;
      break;
    case EEXIST:
    case ENOTEMPTY:
      code = Errc::AlreadyExists;
      break;
    case EWOULDBLOCK:
      code = Errc::Unavailable;
      break;
    case ENOSPC:
    case EDQUOT:
      code = Errc::ResourceExhausted;
      break;
    default:
      break;
  }
  return Error{code, std::string(what) + ": " + std::strerror(err)};
}

Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return fail(errno_error(errno, "open " + name));
  return UniqueFd(fd);
}

Result<UniqueFd> ensure_dir_at(int dir_fd, const std::string& name, bool* created, mode_t mode) {
  const bool made = ::mkdirat(dir_fd, name.c_str(), mode) == 0;
  if (!made && errno != EEXIST) return fail(errno_error(errno, "mkdir " + name));
  if (created) *created = made;
  return open_at(dir_fd, name, O_RDONLY | O_DIRECTORY);
}

Status write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "write"));
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return {};
}

Status pwrite_all(int fd, std::span<const std::byte> bytes, int64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "write"));
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
    offset += n;
  }
  return {};
}

Result<size_t> pread_full(int fd, std::span<std::byte> buf, int64_t offset) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n =
        ::pread(fd, buf.data() + done, buf.size() - done, offset + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "read"));
    }
    if (n == 0) break;  // EOF
    done += static_cast<size_t>(n);
  }
  return done;
}

Status fsync_fd(int fd, std::string_view what) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return fail(errno_error(errno, std::string("fsync ") + std::string(what)));
  return {};
}

Result<struct stat> fstat_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(errno_error(errno, "fstat"));
  return st;
}

Result<struct stat> stat_at(int dir_fd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fail(errno_error(errno, "stat " + name));
  return st;
}

Status try_lock_exclusive(int fd, std::string_view what) {
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return fail(errno_error(errno, std::string("lock ") + std::string(what)));
  return {};
}

Result<std::vector<std::string>> list_dir_at(int dir_fd) {
  auto fd = IMAGED_TRY(open_at(dir_fd, ".", O_RDONLY | O_DIRECTORY));
  DIR* dir = ::fdopendir(fd.get());
  if (!dir) return fail(errno_error(errno, "list directory"));
  fd.release();  // owned by `dir` now
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return fail(errno_error(err, "list directory"));
  return names;
}

Result<std::string> read_small_file_at(int dir_fd, const std::string& name) {
  auto fd = IMAGED_TRY(open_at(dir_fd, name, O_RDONLY));
  std::string out;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "read " + name));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 64 * 1024) return fail(Errc::DataLoss, name + ": unexpectedly large");
  }
  return out;
}

Status replace_small_file_at(int dir_fd, const std::string& name, std::string_view contents) {
  const std::string tmp = name + ".tmp";
  {
    auto fd = IMAGED_TRY(open_at(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    IMAGED_TRY(write_all(fd.get(), std::as_bytes(std::span(contents.data(), contents.size()))));
  }
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0)
    return fail(errno_error(errno, "rename " + tmp));
  return {};
}

}  // namespace imaged::content
