#include "daemon/listeners.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>

namespace imaged::daemon {

namespace {

// chown :group and 0660, or a warning when the group does not exist.
void apply_group(const std::filesystem::path& path, const std::string& group, spdlog::logger& log) {
  if (group.empty()) return;
  std::vector<char> buf(16384);
  struct group gr {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) {
    log.warn("socket group \"{}\" not found; {} stays accessible to its owner only", group,
             path.string());
    return;
  }
  if (::chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
    log.warn("cannot give {} to group \"{}\": {}", path.string(), group, std::strerror(errno));
    return;
  }
  ::chmod(path.c_str(), 0660);
}

}  // namespace

Result<std::vector<OpenedListener>> open_listeners(const Config& config,
                                                   std::vector<ActivatedSocket> activated,
                                                   spdlog::logger& log) {
  std::vector<OpenedListener> out;
  auto cleanup = [&] {
    for (auto& l : out)
      if (!l.unix_path.empty()) ::unlink(l.unix_path.c_str());
  };
  for (const auto& host : config.hosts) {
    switch (host.kind) {
      case HostSpec::Kind::Unix: {
        // Without a usable group the socket is owner-only; with one, chown + 0660 follow.
        auto fd = api::listen_unix(host.path, 0600);
        if (!fd) {
          cleanup();
          return fail(fd.error().context("cannot listen on " + host.text));
        }
        apply_group(host.path, config.group, log);
        out.push_back({std::move(*fd), host.text, host.path, false});
        break;
      }
      case HostSpec::Kind::Tcp: {
        auto fd = api::listen_tcp(host.host, host.port);
        if (!fd) {
          cleanup();
          return fail(fd.error().context("cannot listen on " + host.text));
        }
        out.push_back({std::move(*fd), host.text, {}, true});
        break;
      }
      case HostSpec::Kind::Fd: {
        if (activated.empty()) {
          cleanup();
          return fail(Errc::FailedPrecondition,
                      "no sockets found via socket activation: make sure the service was started "
                      "by systemd");
        }
        bool any = false;
        for (auto& s : activated) {
          if (!s.fd) continue;
          bool match = host.fd_name.empty() || s.name == host.fd_name ||
                       std::to_string(s.fd.get()) == host.fd_name;
          if (!match) continue;
          std::string desc = api::describe_listener(s.fd.get()) + " (fd://" +
                             (s.name.empty() ? std::to_string(s.fd.get()) : s.name) + ")";
          out.push_back({std::move(s.fd), desc, {}, false});
          any = true;
        }
        if (!any) {
          cleanup();
          return fail(Errc::NotFound, "no activated socket named " + host.fd_name);
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace imaged::daemon
