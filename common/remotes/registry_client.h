// RegistryClient: the facade the pull, push, login and search code uses to talk to registries
// (OCI distribution spec / Docker registry HTTP API v2).
//
// Blocking calls meant for worker threads; thread-safe (one client serves the whole daemon and
// shares connections, DNS and TLS sessions, tokens and rate-limit records between calls).
// Every call takes a CallContext: per-request credentials, cancellation (Errc::Canceled), and a
// retry hook. Transient failures (429/5xx with backoff and Retry-After, timeouts, resets, stalls)
// are retried by the one retry policy (retry_policy.h); mirrors are tried before the registry
// (hosts.h). Errors use dockerd's wording where the docker CLI shows them:
//   NotFound         "manifest for busybox:nosuch not found: manifest unknown: manifest unknown"
//                    "repository localhost:5000/nosuch not found: name unknown: ..."
//   Unauthenticated  "pull access denied for x, repository does not exist or may require 'docker
//                    login': unauthorized: authentication required", "unauthorized: ..."
//   PermissionDenied "denied: requested access to the resource is denied"
//   Unavailable      "Head \"http://127.0.0.1:5999/v2/...\": dial tcp 127.0.0.1:5999: connect:
//                    connection refused"
//   ResourceExhausted 429 after retries ("toomanyrequests: ...")
//   DeadlineExceeded timeouts / stalls after retries
// (CallContext::registry_error_text keeps a registry's own text for manifest errors instead:
// "manifest unknown: manifest unknown".)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "common/digest.h"
#include "common/error.h"
#include "common/oci.h"
#include "common/reference.h"
#include "common/remotes/auth_config.h"
#include "common/remotes/call_context.h"
#include "common/remotes/hosts.h"
#include "common/remotes/rate_limit.h"
#include "common/remotes/retry_policy.h"
#include "common/remotes/transport.h"

namespace imaged::remotes {

struct RegistryClientOptions {
  HostsConfig hosts;
  TransportOptions transport;
  RetryConfig retry;
  // Uploads up to this size go in one PUT; larger ones in PATCH chunks of upload_chunk_size.
  int64_t monolithic_upload_limit = 32 * 1024 * 1024;
  int64_t upload_chunk_size = 16 * 1024 * 1024;
  std::chrono::milliseconds small_request_timeout{60'000};  // manifests, HEADs, tokens, ...
};

struct Resolved {
  oci::Descriptor descriptor;  // media type, digest, size of the root manifest or index
  std::string endpoint;        // which one answered: "https://registry-1.docker.io"
  bool mirror = false;         // true when a mirror answered
};

struct FetchResult {
  int64_t bytes_written = 0;  // bytes handed to the sink by this call (after any restart)
  int64_t end_offset = 0;     // the blob offset reached (== descriptor size on success)
  int retries = 0;            // reconnections (stalls, resets, 5xx, ...)
  int restarts = 0;           // times the server ignored Range and the blob restarted from 0
  std::string endpoint;       // which endpoint served the last bytes
};

struct LoginResult {
  std::string status = "Login Succeeded";
  std::string identity_token;  // a refresh token when the registry issued one
};

struct SearchResult {
  std::string name;
  std::string description;
  int64_t star_count = 0;
  bool is_official = false;
  bool is_automated = false;
};

// Receives blob bytes in order. An error aborts the fetch and is returned as is.
using BlobSink = std::function<Status(std::span<const std::byte> bytes)>;
// Called when the server ignored a Range request and the blob restarts at offset 0: the caller
// must discard what it had (e.g. truncate its ingest and reset its hasher). An error aborts.
using RestartFn = std::function<Status()>;
// Random access to the bytes being uploaded: fills `buf` from `offset`; returns bytes read
// (fewer only at the end).
using BlobReader = std::function<Result<size_t>(int64_t offset, std::span<std::byte> buf)>;
// Upload progress: bytes of the blob the registry has accepted so far (may go back after a
// failed chunk).
using ProgressFn = std::function<void(int64_t bytes)>;

class RegistryClient {
 public:
  // `credentials` must outlive the client. `logger` defaults to spdlog's default logger.
  RegistryClient(RegistryClientOptions options, const CredentialSource& credentials,
                 std::shared_ptr<spdlog::logger> logger = nullptr);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // ---- pull ----

  // The root descriptor for a reference (its digest if it has one, else its tag; no tag means
  // "latest"): HEAD /v2/<path>/manifests/<ref> with the four manifest types in Accept, falling
  // back to GET when the HEAD answer has no Docker-Content-Digest/Content-Length or is a 405.
  // Mirrors first. Refuses schema 1 and unknown types (InvalidArgument) and manifests over
  // 4 MiB. A digest reference must resolve to that digest (FailedPrecondition otherwise).
  Result<Resolved> resolve(const Reference& ref, const CallContext& ctx = {});

  // The bytes of a manifest or index of `repo` (its domain and path are used), verified
  // against desc.digest (FailedPrecondition "manifest digest mismatch ..." otherwise); at most
  // 4 MiB; schema 1 and unknown media types refused (InvalidArgument).
  Result<std::string> fetch_manifest(const Reference& repo, const oci::Descriptor& desc,
                                     const CallContext& ctx = {});

  // Streams blob desc.digest of `repo` from `offset` to desc.size into `sink` (Range requests
  // to resume). The caller verifies the digest; this call guarantees order, no gaps, and never
  // more than desc.size bytes in total. Stalls, resets, truncated bodies and 5xx/429 reconnect
  // with Range from the current offset (retry policy). A server that answers 200 to a Range
  // request: `on_restart` is called and the bytes start again from 0 (without `on_restart`, the
  // first bytes are skipped instead). Blob URLs from desc.urls (foreign layers) are tried first,
  // without credentials. NotFound when no endpoint has the blob.
  Result<FetchResult> fetch_blob(const Reference& repo, const oci::Descriptor& desc, int64_t offset,
                                 const BlobSink& sink, const RestartFn& on_restart = {},
                                 const CallContext& ctx = {});

  // ---- push (never to mirrors) ----

  // HEAD /v2/<path>/blobs/<digest>: true when the registry has it.
  Result<bool> blob_exists(const Reference& repo, const Digest& digest,
                           const CallContext& ctx = {});
  // Cross-repository mount (POST ...uploads/?mount=&from=): true when mounted, false when the
  // registry declined (the opened upload is cancelled).
  Result<bool> mount_blob(const Reference& repo, const Digest& digest, std::string_view from_path,
                          const CallContext& ctx = {});
  // Uploads desc.size bytes read through `reader`, verified by the registry against desc.digest.
  // Small blobs: one PUT; large ones: PATCH chunks, resumed from the registry's reported offset
  // after a failure. `progress` may be empty.
  Status upload_blob(const Reference& repo, const oci::Descriptor& desc, const BlobReader& reader,
                     const ProgressFn& progress = {}, const CallContext& ctx = {});
  // PUT /v2/<path>/manifests/<tag_or_digest>; returns the digest the registry computed, checked
  // against sha256(bytes) (FailedPrecondition when they differ).
  Result<Digest> put_manifest(const Reference& repo, std::string_view tag_or_digest,
                              std::string_view media_type, std::string_view bytes,
                              const CallContext& ctx = {});

  // ---- login and search ----

  // POST /auth: GET /v2/ on `registry` ("docker.io", "127.0.0.1:5000", or a URL) with
  // `auth`, through the token flow. Unauthenticated "unauthorized: ..." for wrong credentials;
  // Unavailable with dockerd's "Get \"http://127.0.0.1:5999/v2/\": ... connection refused".
  Result<LoginResult> check_login(std::string_view registry, const AuthConfig& auth,
                                  const CallContext& ctx = {});
  // GET /v2/_catalog (following Link pagination, at most `limit` names).
  Result<std::vector<std::string>> catalog(std::string_view registry, int limit = 10'000,
                                           const CallContext& ctx = {});
  // The v1 search API (GET /v1/search?q=&n=; index.docker.io for docker.io).
  Result<std::vector<SearchResult>> search_v1(std::string_view registry, std::string_view term,
                                              int limit = 25, const CallContext& ctx = {});

  // ---- observability ----

  // The last RateLimit-* headers seen from `registry` (a domain such as "docker.io").
  std::optional<RateLimit> rate_limit(std::string_view registry) const;
  std::map<std::string, RateLimit> rate_limits() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imaged::remotes
