#include "tests/common/images/pull_env.h"

#include <mutex>
#include <stdexcept>

#include "api/json_stream.h"
#include "api/progress_json.h"
#include "common/images/ingest_reader.h"
#include "common/reference.h"
#include "tests/support/must.h"

namespace imaged::testing {

remotes::RegistryClientOptions PullEnvOptions::fast_client() {
  remotes::RegistryClientOptions o;
  o.retry.base_delay = std::chrono::milliseconds(20);
  o.retry.max_delay = std::chrono::milliseconds(200);
  o.transport.stall_timeout = std::chrono::seconds(2);
  o.transport.connect_timeout = std::chrono::seconds(5);
  return o;
}

std::vector<std::string> PullOutcome::statuses() const {
  std::vector<std::string> out;
  for (const auto& p : lines) out.push_back(p.id.empty() ? p.status : p.id + ": " + p.status);
  return out;
}

size_t PullOutcome::count(const std::string& status) const {
  size_t n = 0;
  for (const auto& p : lines) n += p.status == status;
  return n;
}

PullEnv::PullEnv(PullEnvOptions options) {
  if (options.root) {
    root_ = *options.root;
  } else {
    dir_ = std::make_unique<TempDir>("imaged-pull");
    root_ = dir_->path() / "root";
  }
  content_ = must(content::LocalStore::open(root_, {.sync = false}), "open content store");
  metadata_ = must(metadata::MetadataStore::open(root_ / "meta.db"), "open meta.db");
  events_ = std::make_unique<images::EventLog>(*metadata_);
  client_ = std::make_unique<remotes::RegistryClient>(options.client, credentials_);
  images::PullerOptions po = options.puller;
  if (!po.open_partial)
    po.open_partial = [root = root_](const std::string& ref) {
      return images::open_ingest_data(root, ref);
    };
  if (!po.events) po.events = events_.get();
  sweeper_ = std::make_unique<images::BlobSweeper>(*content_, *metadata_);
  if (!po.sweeper) po.sweeper = sweeper_.get();
  po.progress_interval = std::chrono::milliseconds(0);
  puller_ = std::make_unique<images::Puller>(*content_, *metadata_, *client_, po);
}

PullEnv::~PullEnv() = default;

PullOutcome PullEnv::pull(const std::string& ref, std::optional<std::string> platform,
                          remotes::AuthConfig auth, std::stop_token stop,
                          const std::function<void(const images::Progress&)>& watch) {
  images::PullRequest req{
      .ref = must(Reference::parse(ref), "reference"), .auth = auth, .stop = stop};
  if (platform) req.platform = must(oci::Platform::parse(*platform), "platform");
  PullOutcome out;
  std::mutex mu;
  out.status = puller_->pull(req, [&](const images::Progress& p) {
    std::lock_guard lock(mu);
    out.lines.push_back(p);
    out.json.push_back(api::go_json(api::progress_message(p)));
    if (watch) watch(p);
    return true;
  });
  return out;
}

bool PullEnv::has_blob(const std::string& digest) const {
  return content_->info(must(Digest::parse(digest), "digest")).has_value();
}

int64_t PullEnv::image_count() {
  return must(metadata_->read([](metadata::ReadTx& tx) { return tx.image_count(); }), "count");
}

std::optional<std::string> PullEnv::tag_target(const std::string& repository,
                                               const std::string& tag) {
  return must(
      metadata_->read([&](metadata::ReadTx& tx) { return tx.resolve_tag(repository, tag); }),
      "resolve tag");
}

std::optional<std::string> PullEnv::digest_target(const std::string& repository,
                                                  const std::string& digest) {
  return must(metadata_->read(
                  [&](metadata::ReadTx& tx) { return tx.resolve_repo_digest(repository, digest); }),
              "resolve digest");
}

std::vector<content::IngestStatus> PullEnv::ingests() {
  return must(content_->ingests(), "ingests");
}

}  // namespace imaged::testing
