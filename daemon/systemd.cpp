#include "daemon/systemd.h"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace imaged::daemon {

Result<std::vector<ActivatedSocket>> take_activated_sockets() {
  std::vector<ActivatedSocket> out;
  char** names = nullptr;
  int n = ::sd_listen_fds_with_names(1, &names);
  if (n < 0) return fail(Errc::Internal, std::string("sd_listen_fds: ") + std::strerror(-n));
  for (int i = 0; i < n; ++i) {
    ActivatedSocket s;
    s.fd = api::OwnedFd(SD_LISTEN_FDS_START + i);
    if (names && names[i]) s.name = names[i];
    out.push_back(std::move(s));
  }
  if (names) {
    for (int i = 0; names[i]; ++i) std::free(names[i]);
    std::free(names);
  }
  return out;
}

void notify_ready(std::string_view status) {
  std::string msg = "READY=1\nSTATUS=" + std::string(status);
  ::sd_notify(0, msg.c_str());
}

void notify_stopping() { ::sd_notify(0, "STOPPING=1\nSTATUS=shutting down"); }

bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js || !*js) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  std::string expected = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  return expected == js;
}

}  // namespace imaged::daemon
