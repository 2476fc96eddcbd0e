// Pusher: `docker push` (POST /images/{name}/push) — pushes stored images to a registry with
// dockerd's progress stream (engine-api.md §2 "Push stream").
//
// For each tag pushed (one, or every tag of the repository when none is given):
//   - the image's stored platform manifest is pushed UNCHANGED, so the registry's manifest
//     digest is the one the image was pulled (or loaded) through: a byte-exact round trip;
//   - each layer (progress id = short diff_id): "Preparing", "Waiting" (beyond the concurrency),
//     then "Layer already exists" (HEAD found it), "Mounted from <path>" (cross-repository mount
//     from another repository of the same registry the image's repo digests name), or
//     "Pushing" with byte counts and "Pushed"; the config blob is pushed silently;
//   - "<tag>: digest: sha256:… size: N" and an aux message {Tag, Digest, Size};
//   - the repo digest repository@digest is recorded and a `push` event appended, in one
//     transaction.
// The first message is always "The push refers to repository [<name>]"; every error after it is
// returned for the API layer to write in-stream. Errors: NotFound "An image does not exist
// locally with the tag: <repo>"; Unauthenticated/PermissionDenied with the registry's text plus
// the registry's name; registry errors as RegistryClient returns them; Canceled on stop.
//
// Thread safety: push() may run concurrently from worker threads. Lifetime: the stores, client
// and event log must outlive the Pusher.
#pragma once

#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "common/error.h"
#include "common/images/image_service.h"
#include "common/reference.h"
#include "common/remotes/auth_config.h"

namespace imaged::content {
class Provider;
class Ingester;
}  // namespace imaged::content

namespace imaged::images {

struct PushRequest {
  Reference repo;                  // the repository (any tag or digest in it is ignored)
  std::optional<std::string> tag;  // nullopt or empty: every tag of the repository
  remotes::AuthConfig auth;        // from X-Registry-Auth; may be empty
  std::stop_token stop;
  // Called after each tag's manifest is pushed (after its "<tag>: digest: …" message), for the
  // API's aux line {"Tag","Digest","Size"}. Returns false when nobody listens. May be empty.
  std::function<bool(const std::string& tag, const Digest& digest, int64_t size)> on_pushed;
};

struct PusherOptions {
  int max_concurrent_uploads = 5;  // dockerd's default: layers beyond it show "Waiting"
};

class Pusher {
 public:
  Pusher(content::Provider& content, content::Ingester& ingester, metadata::MetadataStore& metadata,
         remotes::RegistryClient& registry, EventLog& events, PusherOptions options = {});

  Status push(const PushRequest& request, const ProgressSink& progress);

 private:
  Status push_one(const PushRequest& request, const Reference& tagged, const std::string& image_id,
                  const ProgressSink& progress);

  content::Provider& content_;
  content::Ingester& ingester_;
  metadata::MetadataStore& metadata_;
  remotes::RegistryClient& registry_;
  EventLog& events_;
  PusherOptions options_;
};

}  // namespace imaged::images
