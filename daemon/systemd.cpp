#include "daemon/systemd.h"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/dynamic_library.h"

namespace imaged::daemon {

namespace {

// libsystemd is opened only when systemd talks to us (LISTEN_FDS, NOTIFY_SOCKET): a daemon
// started by hand or by a test does not pay for it (see common/dynamic_library.h).
#define IMAGED_SYSTEMD_API(X) X(sd_listen_fds_with_names) X(sd_notify)

struct SystemdApi {
  IMAGED_SYSTEMD_API(IMAGED_API_MEMBER)
};

Result<const SystemdApi*> systemd_api() {
  static const Result<SystemdApi> api = load_api<SystemdApi>(
      "libsystemd.so.0",
      [](SymbolBinder& b, SystemdApi& a) { IMAGED_SYSTEMD_API(IMAGED_API_BIND) });
  if (!api) return fail(api.error());
  return &*api;
}

bool has_env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

// sd_notify(0, msg) when systemd listens for notifications.
void notify(const std::string& msg) {
  if (!has_env("NOTIFY_SOCKET")) return;
  if (auto api = systemd_api()) (*api)->sd_notify(0, msg.c_str());
}

}  // namespace

Result<std::vector<ActivatedSocket>> take_activated_sockets() {
  std::vector<ActivatedSocket> out;
  if (!has_env("LISTEN_FDS")) return out;
  const SystemdApi& sd = *IMAGED_TRY(systemd_api());
  char** names = nullptr;
  int n = sd.sd_listen_fds_with_names(1, &names);
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

void notify_ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void notify_stopping() { notify("STOPPING=1\nSTATUS=shutting down"); }

bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js || !*js) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  std::string expected = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  return expected == js;
}

}  // namespace imaged::daemon
