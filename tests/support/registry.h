// Real-registry fixtures for integration tests and benchmarks (tests/harness/README.md).
//
// TestRegistry runs Debian's docker-registry (tests/harness/registry.sh) on a free loopback port
// in its own TempDir; FaultProxy runs tests/harness/fault_proxy.py in front of a registry;
// push_fixture() runs tests/harness/mkimage.py to push deterministic busybox images.
//
// All of them throw std::runtime_error (with the script's stderr) when they cannot do their job:
// they are test set-up, and a failed set-up should fail the test loudly. Each object owns its
// child processes and stops them in its destructor; the children also exit by themselves when
// the test binary dies (watch-pid), so a crashed test leaks nothing. Not thread-safe: use one
// object from one thread (distinct objects are independent).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace imaged::testing {

struct RegistryOptions {
  // Turns on htpasswd basic auth with this one user.
  std::optional<std::string> user;
  std::optional<std::string> password;
  int port = 0;  // 0: a free port
};

class TestRegistry {
 public:
  explicit TestRegistry(RegistryOptions options = {});
  ~TestRegistry();  // registry.sh stop; the directory (storage included) is removed
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
  int port() const { return port_; }
  std::string url() const { return "http://" + host_; }
  bool has_auth() const { return options_.user.has_value(); }
  // "user:pass" when auth is on, "" otherwise.
  std::string credentials() const;
  const std::filesystem::path& dir() const { return dir_.path(); }  // config.yml, data/, log

 private:
  RegistryOptions options_;
  TempDir dir_;
  std::string host_;
  int port_ = 0;
};

class FaultProxy {
 public:
  // Starts fault_proxy.py in front of `upstream_host` ("127.0.0.1:PORT") on a free port; returns
  // once it answers. `extra_args` go to the script (e.g. {"--bearer", "--token-user", "u:p"} or
  // {"--mode", "rate429", "--count", "2"}).
  explicit FaultProxy(const std::string& upstream_host,
                      const std::vector<std::string>& extra_args = {});
  explicit FaultProxy(const TestRegistry& upstream,
                      const std::vector<std::string>& extra_args = {});
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
  int port() const { return port_; }
  std::string url() const { return "http://" + host_; }

  // POST /_proxy/config with this JSON ({"faults": [...], "bearer": {...}|null}); returns the
  // resulting config as JSON. Throws on a non-200 answer (bad JSON, unknown mode).
  std::string configure(const std::string& json);
  // GET /_proxy/stats: the JSON document described in tests/harness/README.md.
  std::string stats() const;
  // POST /_proxy/reset: clears the stats, re-arms the fault counters, ends running stalls.
  void reset();

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  std::string host_;
  int port_ = 0;
};

// A minimal HTTP/1.1 client for loopback test servers: one request, `Connection: close`, the
// whole answer read until EOF (bounded by `timeout`). No chunked decoding of the body (the
// proxy's control endpoints and the registry answer with Content-Length). Throws on connect or
// I/O errors.
struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};
HttpReply http_request(const std::string& host, const std::string& method,
                       const std::string& target, const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Runs mkimage.py `set` against `registry` (credentials passed along when it has auth) and
// returns its JSON summary. Sets: seed oci zstd plain multiarch layers8 layers50 big all.
std::string push_fixture(const TestRegistry& registry, const std::string& set,
                         const std::vector<std::string>& extra_args = {});
// Same against any host (a FaultProxy, another registry); `user` is "user:pass" or "".
std::string push_fixture(const std::string& host, const std::string& set,
                         const std::vector<std::string>& extra_args = {},
                         const std::string& user = {});

}  // namespace imaged::testing
