// What a caller of the registry client passes with every call: credentials from the API request,
// cancellation, and a hook that reports retries (for pull/push progress: "Retrying in 4s").
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "common/remotes/auth_config.h"

namespace imaged::remotes {

struct RetryNotice {
  std::string operation;  // "GET https://registry-1.docker.io/v2/library/busybox/blobs/sha256:…"
  int attempt = 0;        // the attempt that failed (1-based, since the last progress)
  std::chrono::milliseconds delay{0};
  std::string reason;  // "429 Too Many Requests (Retry-After 1s)", "stalled", ...
};

struct CallContext {
  // Credentials for the registry being called (e.g. decoded X-Registry-Auth). When absent or
  // empty, the client's CredentialSource is asked. Never sent to mirrors or other registries.
  std::optional<AuthConfig> auth;
  // Cancels the call (and its retry sleeps) within about a second: Errc::Canceled.
  std::stop_token stop;
  // Called (on the calling thread) before each retry sleep. May be empty.
  std::function<void(const RetryNotice&)> on_retry;
  // How a registry's refusal of a manifest (resolve, fetch_manifest) is worded: false as dockerd's
  // pull words it ("manifest for busybox:nosuch not found: manifest unknown: manifest unknown",
  // "pull access denied for x, ..."); true as the registry said it ("manifest unknown: manifest
  // unknown"), as dockerd's distribution inspect shows it. The Errc is the same either way.
  bool registry_error_text = false;
};

}  // namespace imaged::remotes
