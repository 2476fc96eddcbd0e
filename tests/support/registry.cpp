#include "tests/support/registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace imaged::testing {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int port_of(const std::string& host) {
  auto colon = host.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("no port in host: " + host);
  return std::stoi(host.substr(colon + 1));
}

// An fd closed on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string decode_chunked(const std::string& raw) {
  std::string out;
  size_t pos = 0;
  while (pos < raw.size()) {
    auto eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    out.append(raw, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

HttpReply http_request(const std::string& host, const std::string& method,
                       const std::string& target, const std::string& body,
                       const std::map<std::string, std::string>& headers,
                       std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto left_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<long>(left.count(), 0));
  };

  Fd sock{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (sock.fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_of(host)));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only, "localhost" included
  if (::connect(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EINPROGRESS)
    throw std::runtime_error("connect to " + host + " failed");
  pollfd pfd{sock.fd, POLLOUT, 0};
  if (::poll(&pfd, 1, left_ms()) != 1)
    throw std::runtime_error("connect to " + host + " timed out");
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) throw std::runtime_error("connect to " + host + ": " + std::strerror(err));

  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + host +
                        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  request += "\r\n" + body;
  std::string_view pending = request;
  while (!pending.empty()) {
    pfd = {sock.fd, POLLOUT, 0};
    if (::poll(&pfd, 1, left_ms()) != 1) throw std::runtime_error("send to " + host + " timed out");
    ssize_t n = ::send(sock.fd, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) throw std::runtime_error("send to " + host + " failed");
    if (n > 0) pending.remove_prefix(static_cast<size_t>(n));
  }

  std::string raw;
  char buf[65536];
  for (;;) {
    pfd = {sock.fd, POLLIN, 0};
    if (::poll(&pfd, 1, left_ms()) != 1)
      throw std::runtime_error("reply from " + host + " timed out");
    ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN) continue;
      if (errno == ECONNRESET && !raw.empty()) break;
      throw std::runtime_error("recv from " + host + " failed");
    }
    raw.append(buf, static_cast<size_t>(n));
  }

  HttpReply reply;
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0)
    throw std::runtime_error("malformed reply from " + host);
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  reply.status = std::stoi(line.substr(line.find(' ') + 1, 3));
  while (std::getline(head, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    reply.headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
  }
  reply.body = raw.substr(head_end + 4);
  if (lower(reply.headers["transfer-encoding"]) == "chunked")
    reply.body = decode_chunked(reply.body);
  if (reply.headers["transfer-encoding"].empty()) reply.headers.erase("transfer-encoding");
  return reply;
}

// ---------------------------------------------------------------------------------------------

TestRegistry::TestRegistry(RegistryOptions options)
    : options_(std::move(options)), dir_("imaged-registry") {
  std::vector<std::string> argv = {"bash",        source_path("tests/harness/registry.sh").string(),
                                   "start",       dir_.path().string(),
                                   "--watch-pid", std::to_string(::getpid())};
  if (options_.user) argv.insert(argv.end(), {"--htpasswd", credentials()});
  if (options_.port) argv.insert(argv.end(), {"--port", std::to_string(options_.port)});
  auto r = run(argv, 30s);
  if (r.exit_code != 0)
    throw std::runtime_error("registry.sh start failed (exit " + std::to_string(r.exit_code) +
                             "): " + r.err);
  host_ = trim(r.out);
  port_ = port_of(host_);
}

TestRegistry::~TestRegistry() {
  run({"bash", source_path("tests/harness/registry.sh").string(), "stop", dir_.path().string()},
      15s);
}

std::string TestRegistry::credentials() const {
  if (!options_.user) return {};
  return *options_.user + ":" + options_.password.value_or("");
}

// ---------------------------------------------------------------------------------------------

FaultProxy::FaultProxy(const TestRegistry& upstream, const std::vector<std::string>& extra_args)
    : FaultProxy(upstream.host(), extra_args) {}

FaultProxy::FaultProxy(const std::string& upstream_host, const std::vector<std::string>& extra_args)
    : dir_("imaged-proxy") {
  auto port_file = dir_ / "port";
  std::vector<std::string> argv = {
      "python3",       source_path("tests/harness/fault_proxy.py").string(),
      "--upstream",    upstream_host,
      "--listen-port", "0",
      "--port-file",   port_file.string(),
      "--watch-pid",   std::to_string(::getpid()),
      "--log",         (dir_ / "requests.log").string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, ProcessOptions{.stderr_file = dir_ / "stderr"});
  bool up =
      wait_until([&] { return std::filesystem::exists(port_file) || !process_->running(); }, 10s);
  if (!up || !std::filesystem::exists(port_file))
    throw std::runtime_error("fault_proxy.py did not start: " + read_file(dir_ / "stderr"));
  port_ = std::stoi(trim(read_file(port_file)));
  host_ = "127.0.0.1:" + std::to_string(port_);
}

FaultProxy::~FaultProxy() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait(5s);  // ~Process kills what is left
  }
}

std::string FaultProxy::configure(const std::string& json) {
  auto r =
      http_request(host_, "POST", "/_proxy/config", json, {{"Content-Type", "application/json"}});
  if (r.status != 200)
    throw std::runtime_error("fault proxy refused config (" + std::to_string(r.status) +
                             "): " + r.body);
  return r.body;
}

std::string FaultProxy::stats() const {
  auto r = http_request(host_, "GET", "/_proxy/stats");
  if (r.status != 200) throw std::runtime_error("fault proxy stats: " + std::to_string(r.status));
  return r.body;
}

void FaultProxy::reset() {
  auto r = http_request(host_, "POST", "/_proxy/reset");
  if (r.status != 200) throw std::runtime_error("fault proxy reset: " + std::to_string(r.status));
}

// ---------------------------------------------------------------------------------------------

std::string push_fixture(const TestRegistry& registry, const std::string& set,
                         const std::vector<std::string>& extra_args) {
  return push_fixture(registry.host(), set, extra_args, registry.credentials());
}

std::string push_fixture(const std::string& host, const std::string& set,
                         const std::vector<std::string>& extra_args, const std::string& user) {
  std::vector<std::string> argv = {"python3", source_path("tests/harness/mkimage.py").string(),
                                   "--registry", host, set};
  if (!user.empty()) argv.insert(argv.end(), {"--user", user});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto r = run(argv, 280s);  // under the per-test CTest timeout; `big` at 1 GiB takes ~1 min
  if (r.exit_code != 0)
    throw std::runtime_error("mkimage.py " + set + " failed" +
                             (r.timed_out ? std::string(" (timed out)") : std::string()) + ": " +
                             r.err);
  return r.out;
}

}  // namespace imaged::testing
