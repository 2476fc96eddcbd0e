// A pull test bench: a real store (LocalStore + meta.db + EventLog) in a TempDir, a
// RegistryClient with fast retries, and a Puller over them. Tests only; throws on set-up failures.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/content/local_store.h"
#include "common/images/blob_sweeper.h"
#include "common/images/event_log.h"
#include "common/images/puller.h"
#include "common/metadata/metadata_store.h"
#include "common/remotes/registry_client.h"
#include "tests/support/temp_dir.h"

namespace imaged::testing {

struct PullEnvOptions {
  images::PullerOptions puller;
  remotes::RegistryClientOptions client = fast_client();
  // Reuse a data root (a "restarted daemon"); default: a fresh TempDir.
  std::optional<std::filesystem::path> root;

  // Retries in tens of milliseconds, stalls detected after 2 s.
  static remotes::RegistryClientOptions fast_client();
};

struct PullOutcome {
  Status status;
  std::vector<images::Progress> lines;
  std::vector<std::string> json;  // the lines as the API renders them (Go-escaped JSON)
  // The status texts, "id: status" or "status", in order.
  std::vector<std::string> statuses() const;
  // How many lines have this status (any id).
  size_t count(const std::string& status) const;
};

class PullEnv {
 public:
  explicit PullEnv(PullEnvOptions options = {});
  ~PullEnv();

  content::LocalStore& content() { return *content_; }
  metadata::MetadataStore& metadata() { return *metadata_; }
  images::EventLog& events() { return *events_; }
  images::Puller& puller() { return *puller_; }
  const std::filesystem::path& root() const { return root_; }

  // Pulls `ref` ("127.0.0.1:PORT/library/busybox:musl"), collecting the progress lines.
  // `watch`, when given, sees every line as it arrives (on the pull's threads).
  PullOutcome pull(const std::string& ref, std::optional<std::string> platform = std::nullopt,
                   remotes::AuthConfig auth = {}, std::stop_token stop = {},
                   const std::function<void(const images::Progress&)>& watch = {});

  bool has_blob(const std::string& digest) const;
  int64_t image_count();
  // The image `repo:tag` / `repo@digest` names; nullopt when none.
  std::optional<std::string> tag_target(const std::string& repository, const std::string& tag);
  std::optional<std::string> digest_target(const std::string& repository,
                                           const std::string& digest);
  std::vector<content::IngestStatus> ingests();

 private:
  std::unique_ptr<TempDir> dir_;
  std::filesystem::path root_;
  std::unique_ptr<content::LocalStore> content_;
  std::unique_ptr<metadata::MetadataStore> metadata_;
  std::unique_ptr<images::EventLog> events_;
  std::unique_ptr<images::BlobSweeper> sweeper_;
  remotes::NoCredentials credentials_;
  std::unique_ptr<remotes::RegistryClient> client_;
  std::unique_ptr<images::Puller> puller_;
};

}  // namespace imaged::testing
