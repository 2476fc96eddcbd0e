#include "common/images/puller.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/images/blob_sweeper.h"
#include "common/images/download_limiter.h"
#include "common/images/event_log.h"
#include "common/images/image_records.h"
#include "common/images/pull_progress.h"
#include "common/images/single_flight.h"
#include "common/images/timestamps.h"
#include "common/metadata/metadata_store.h"
#include "common/remotes/registry_client.h"
#include "common/remotes/small_blob.h"

namespace imaged::images {

std::string layer_short_id(const Digest& digest) { return std::string(digest.short_id()); }

namespace {

// A shared download tells its followers about progress at most every this many bytes.
constexpr int64_t kPublishStep = 64 * 1024;

// The ingest ref of a layer: derived from the digest only, so that the next pull (in this
// process or after a restart) finds a partial download and resumes it.
std::string layer_ref(const Digest& d) { return "layer-" + d.str(); }

// What one shared layer download yields. The leader commits the blob only when the diff_id is
// the one its own config expects; a follower whose config agrees with the bytes but not with the
// leader's config must fetch again.
struct FetchedLayer {
  LayerDigests digests;
  bool committed = false;
};

// One distinct blob of the image, at one or more layer positions.
struct LayerTask {
  oci::Descriptor desc;
  oci::Compression compression = oci::Compression::Gzip;
  Digest expected_diff_id;  // the config's diff_id at the first position
  size_t first = 0;         // first position
  bool exists = false;      // committed before the pull began: no download
  std::optional<LayerDigests> result;
};

// A manifest, index or config the pull holds in memory and commits.
struct SmallBlob {
  const char* kind;
  const std::string* bytes;
  Digest digest;
};

std::string retry_text(std::chrono::milliseconds delay) {
  const int64_t secs = std::max<int64_t>(1, (delay.count() + 999) / 1000);
  return "Retrying in " + std::to_string(secs) + (secs == 1 ? " second" : " seconds");
}

Error diff_id_mismatch(size_t position, const Digest& layer, const Digest& got,
                       const Digest& want) {
  return Error{Errc::FailedPrecondition,
               "layers from manifest don't match image configuration: layer " +
                   std::to_string(position) + " (" + layer.str() + ") has diff_id " + got.str() +
                   ", the config says " + want.str()};
}

Error verification_failed(const Digest& d) {
  return Error{Errc::FailedPrecondition,
               "filesystem layer verification failed for digest " + d.str()};
}

// dockerd's LogImageEvent for a pull: id = the familiar reference, the image's labels, and
// name = the familiar repository.
Event pull_event(const Reference& ref, const nlohmann::json& labels) {
  Event e{.action = "pull", .actor_id = ref.familiar()};
  if (labels.is_object())
    for (auto& [k, v] : labels.items())
      if (v.is_string()) e.attributes[k] = v.get<std::string>();
  e.attributes["name"] = ref.familiar_name();
  return e;
}

}  // namespace

struct Puller::Impl {
  content::Store& content;
  metadata::MetadataStore& metadata;
  remotes::RegistryClient& registry;
  PullerOptions options;
  std::shared_ptr<spdlog::logger> log;
  DownloadLimiter limiter;
  SingleFlight<FetchedLayer, LayerStatus> flights;
  SingleFlight<std::string, int> config_flights;

  // Layers verified by this process (digest → digests), so that "Already exists" layers need
  // not be decompressed again to learn their diff_id.
  std::mutex verified_mu;
  std::unordered_map<std::string, LayerDigests> verified;

  Impl(content::Store& c, metadata::MetadataStore& m, remotes::RegistryClient& r, PullerOptions o)
      : content(c),
        metadata(m),
        registry(r),
        options(std::move(o)),
        log(options.logger ? options.logger : spdlog::default_logger()),
        limiter(options.max_concurrent_downloads) {
    options.platform = oci::normalize(options.platform);
  }

  // Configs fetched lately (a pull that starts just after another one fetched the config, but
  // before that one committed it, would fetch it again). Small and bounded.
  static constexpr size_t kRecentConfigs = 16;
  std::deque<std::pair<std::string, std::string>> recent_configs;  // guarded by verified_mu

  void remember_config(const Digest& d, const std::string& bytes) {
    std::lock_guard lock(verified_mu);
    recent_configs.emplace_back(d.str(), bytes);
    if (recent_configs.size() > kRecentConfigs) recent_configs.pop_front();
  }
  std::optional<std::string> recent_config(const Digest& d) {
    std::lock_guard lock(verified_mu);
    for (const auto& [digest, bytes] : recent_configs)
      if (digest == d.str()) return bytes;
    return std::nullopt;
  }

  // Commits a manifest, index or config held in memory. The ref is unique to this call:
  // concurrent pulls of one image write the same blob at the same time (the second commit finds
  // it there, which is success), and a small blob is not worth resuming.
  std::atomic<uint64_t> serial{0};
  Status write_small_blob(std::string_view kind, std::string_view bytes, const Digest& digest) {
    if (content.info(digest)) return {};
    const std::string ref = std::string(kind) + "-" + digest.str() + "-" +
                            std::to_string(::getpid()) + "-" + std::to_string(serial.fetch_add(1));
    return content::write_blob(content, ref, bytes, digest);
  }

  void remember(const LayerDigests& d) {
    std::lock_guard lock(verified_mu);
    verified.insert_or_assign(d.digest.str(), d);
  }
  std::optional<LayerDigests> recall(const Digest& d) {
    std::lock_guard lock(verified_mu);
    auto it = verified.find(d.str());
    if (it == verified.end()) return std::nullopt;
    return it->second;
  }

  // Commits SmallBlobs on a thread of its own while the pull goes on; unless keep() is called,
  // the destructor sweeps those this pull wrote (the pull failed: no row will reference them).
  class EarlyBlobs {
   public:
    EarlyBlobs(Impl& impl, const std::vector<SmallBlob>& blobs) : impl_(impl), blobs_(blobs) {
      thread_ = std::thread([this] {
        for (const SmallBlob& b : blobs_)
          if (!impl_.content.info(b.digest) && impl_.write_small_blob(b.kind, *b.bytes, b.digest))
            wrote_.push_back(b.digest.str());
      });
    }
    ~EarlyBlobs() {
      wait();
      if (!keep_ && !wrote_.empty()) impl_.discard_unreferenced(wrote_);
    }
    void wait() {
      if (thread_.joinable()) thread_.join();
    }
    void keep() { keep_ = true; }

   private:
    Impl& impl_;
    const std::vector<SmallBlob>& blobs_;
    std::vector<std::string> wrote_;
    bool keep_ = false;
    std::thread thread_;
  };

  // Removes those of `digests` that no row references (through the sweeper when there is one).
  void discard_unreferenced(const std::vector<std::string>& digests) {
    if (options.sweeper) {
      if (auto st = options.sweeper->sweep(digests); !st)
        log->warn("cannot sweep the blobs of a failed pull: {}", st.error().message);
      return;
    }
    for (const auto& d : digests) {
      auto referenced =
          metadata.read([&](metadata::ReadTx& tx) { return tx.is_blob_referenced(d); });
      if (referenced && !*referenced) (void)content.remove(*Digest::parse(d));
    }
  }

  Status run(const PullRequest& request, PullProgress& progress, std::stop_source& stop);

  Result<std::optional<std::string>> up_to_date(const Reference& ref, const Digest& root,
                                                bool check_platform,
                                                const oci::PlatformMatcher& matcher);
  Result<std::string> fetch_config(const Reference& ref, const oci::Descriptor& desc,
                                   const remotes::CallContext& ctx);
  // `image_known`: the image (its config) is in the store already, under another name; as
  // dockerd, its layers that are here get no "Already exists" line.
  Result<std::vector<metadata::LayerRecord>> fetch_layers(
      const Reference& ref, const oci::Manifest& manifest, const oci::ImageConfig& config,
      bool image_known, const remotes::CallContext& ctx, PullProgress& progress,
      std::stop_source& stop);
  Result<LayerDigests> download_layer(const Reference& ref, LayerTask& task,
                                      const remotes::CallContext& ctx, PullProgress& progress,
                                      std::stop_token stop);
  Result<FetchedLayer> fetch_layer(const Reference& ref, const LayerTask& task,
                                   remotes::CallContext ctx, std::stop_token flight_stop,
                                   const std::function<void(const LayerStatus&)>& emit);
  Result<LayerDigests> existing_layer(const LayerTask& task);
};

// ---- the flow -----------------------------------------------------------------------------------

Status Puller::Impl::run(const PullRequest& request, PullProgress& progress,
                         std::stop_source& stop) {
  // 0. What to pull. A tag+digest reference pulls the digest (dockerd's ParseDockerRef); no tag
  //    and no digest means latest.
  Reference ref = request.ref.docker_ref();
  const bool by_digest = ref.digest().has_value();
  const std::string repo = ref.name();
  const std::string familiar = ref.familiar();
  // dockerd's first line names the tag, or the full reference for a digest pull.
  const std::string stream_id = by_digest ? ref.str() : *ref.tag();
  const oci::Platform wanted =
      request.platform ? oci::normalize(*request.platform) : options.platform;
  const oci::PlatformMatcher matcher(wanted);

  remotes::CallContext ctx;
  if (!request.auth.empty()) ctx.auth = request.auth;
  ctx.stop = stop.get_token();

  // Step timings at debug level (where a slow pull spends its time).
  auto t0 = std::chrono::steady_clock::now();
  auto step = [&](const char* what) {
    auto now = std::chrono::steady_clock::now();
    log->debug("pull {}: {} took {} us", familiar, what,
               std::chrono::duration_cast<std::chrono::microseconds>(now - t0).count());
    t0 = now;
  };

  // 1. Resolve (HEAD); nothing else is fetched when the store is up to date.
  const remotes::Resolved resolved = IMAGED_TRY(registry.resolve(ref, ctx));
  const oci::Descriptor root = resolved.descriptor;
  const bool root_is_index = oci::is_index_media_type(root.media_type);
  if (auto id = IMAGED_TRY(
          up_to_date(ref, root.digest, root_is_index || request.platform.has_value(), matcher))) {
    progress.message(stream_id, "Pulling from " + ref.path());
    if (options.events) {
      auto image =
          IMAGED_TRY(metadata.read([&](metadata::ReadTx& tx) { return tx.get_image(*id); }));
      IMAGED_TRY(options.events->append(
          pull_event(ref, nlohmann::json::parse(image.labels_json, nullptr, false))));
    }
    progress.message("", "Digest: " + root.digest.str());
    progress.message("", "Status: Image is up to date for " + familiar);
    return {};
  }

  step("resolve");

  // 2. The manifest, through the index for a multi-arch image.
  std::string root_bytes = IMAGED_TRY(registry.fetch_manifest(ref, root, ctx));
  std::optional<std::string> index_bytes;
  oci::Descriptor mdesc = root;
  std::string manifest_bytes;
  if (root_is_index) {
    const oci::Index index = IMAGED_TRY(oci::parse_index(root_bytes, root.media_type));
    mdesc = IMAGED_TRY(oci::select_manifest(index, matcher));
    manifest_bytes = IMAGED_TRY(registry.fetch_manifest(ref, mdesc, ctx));
    index_bytes = std::move(root_bytes);
  } else {
    manifest_bytes = std::move(root_bytes);
  }
  const oci::Manifest manifest = IMAGED_TRY(oci::parse_manifest(manifest_bytes, mdesc.media_type));
  IMAGED_TRY(oci::check_image_manifest(manifest));
  progress.message(stream_id, "Pulling from " + ref.path());

  step("manifest");

  // 3. The config.
  const std::string config_bytes = IMAGED_TRY(fetch_config(ref, manifest.config, ctx));
  const oci::ImageConfig config = IMAGED_TRY(oci::parse_image_config(config_bytes));
  if (request.platform && !root_is_index && !matcher.match(config.platform()))
    return fail(Errc::NotFound, "image with reference " + familiar +
                                    " was found but its platform (" + config.platform().str() +
                                    ") does not match the specified platform (" + wanted.str() +
                                    ")");
  if (config.diff_ids.size() != manifest.layers.size())
    return fail(Errc::FailedPrecondition,
                "layers from manifest don't match image configuration: the manifest has " +
                    std::to_string(manifest.layers.size()) + " layers, the config " +
                    std::to_string(config.diff_ids.size()) + " diff_ids");

  step("config");

  // Head start: the config, manifest and index blobs are committed on another thread while the
  // layers download (each commit is fsync-bound). The authoritative check-and-write happens
  // under the sweeper's guard below; if the pull fails, what this pull wrote is swept again.
  const Digest& image_id = manifest.config.digest;
  std::vector<SmallBlob> small{{"config", &config_bytes, image_id},
                               {"manifest", &manifest_bytes, mdesc.digest}};
  if (index_bytes) small.push_back({"index", &*index_bytes, root.digest});
  EarlyBlobs early(*this, small);

  // 4. The layers: verified and committed one by one.
  const bool image_known = IMAGED_TRY(metadata.read([&](metadata::ReadTx& tx) -> Result<bool> {
    auto found = tx.get_image(image_id.str());
    if (!found && found.error().code != Errc::NotFound) return fail(found.error());
    return found.has_value();
  }));
  std::vector<metadata::LayerRecord> layers =
      IMAGED_TRY(fetch_layers(ref, manifest, config, image_known, ctx, progress, stop));
  if (stop.stop_requested()) return fail(Errc::Canceled, "pull canceled");

  step("layers");

  // 5-6 build the image's rows; they are written under the sweeper's guard below.
  const metadata::ImageRecord image =
      image_record(image_id, config, manifest.config.media_type, manifest.config.size,
                   std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
  const nlohmann::json labels = nlohmann::json::parse(image.labels_json);

  std::vector<metadata::ManifestRecord> manifests;
  if (index_bytes)
    manifests.push_back(metadata::ManifestRecord{.digest = root.digest.str(),
                                                 .media_type = root.media_type,
                                                 .size = root.size,
                                                 .kind = metadata::ManifestKind::Index});
  manifests.push_back(metadata::ManifestRecord{.digest = mdesc.digest.str(),
                                               .media_type = manifest.media_type,
                                               .size = mdesc.size,
                                               .kind = metadata::ManifestKind::Manifest,
                                               .platform = platform_text(config)});

  // 5. Under the sweeper's guard (blob_sweeper.h): every layer blob still there (an image
  //    deleted meanwhile may have taken a shared "Already exists" layer with it: fetch it
  //    again), then config, manifest and index blobs (rows may only reference committed blobs),
  //    then the rows.
  std::shared_lock<std::shared_mutex> guard;
  for (int round = 0;; ++round) {
    if (options.sweeper) guard = options.sweeper->ingest_guard();
    bool all_there = true;
    for (const auto& l : layers)
      if (!content.info(IMAGED_TRY(Digest::parse(l.digest)))) all_there = false;
    if (all_there) break;
    if (round == 2)
      return fail(Errc::Unavailable, "layers were removed while the pull was in progress");
    if (guard) guard.unlock();
    layers = IMAGED_TRY(fetch_layers(ref, manifest, config, image_known, ctx, progress, stop));
    if (stop.stop_requested()) return fail(Errc::Canceled, "pull canceled");
  }
  early.wait();
  for (const SmallBlob& b : small) IMAGED_TRY(write_small_blob(b.kind, *b.bytes, b.digest));

  step("blobs");

  // 6. One metadata transaction: image, names, event.
  const bool newer = IMAGED_TRY(metadata.write([&](metadata::WriteTx& tx) -> Result<bool> {
    if (!IMAGED_TRY(tx.put_image(image, layers, manifests)))
      IMAGED_TRY(tx.add_manifests(image.id, manifests));
    // "Downloaded newer image" unless the name already pointed at this image (dockerd).
    std::optional<std::string> before;
    if (by_digest) {
      before = IMAGED_TRY(tx.resolve_repo_digest(repo, root.digest.str()));
    } else {
      before = IMAGED_TRY(tx.resolve_tag(repo, *ref.tag()));
      if (before != image.id) IMAGED_TRY(tx.set_tag(repo, *ref.tag(), image.id, image.added_ns));
    }
    IMAGED_TRY(tx.add_repo_digest(repo, root.digest.str(), image.id));
    if (options.events) IMAGED_TRY(options.events->append(tx, pull_event(ref, labels)));
    return before != image.id;
  }));
  early.keep();
  if (guard) guard.unlock();
  if (options.events) options.events->notify();

  step("metadata");

  // 7. The closing lines.
  progress.message("", "Digest: " + root.digest.str());
  progress.message(
      "", (newer ? "Status: Downloaded newer image for " : "Status: Image is up to date for ") +
              familiar);
  log->info("pulled {} ({}, image {})", familiar, root.digest.str(), image.id);
  return {};
}

Result<std::optional<std::string>> Puller::Impl::up_to_date(const Reference& ref,
                                                            const Digest& root, bool check_platform,
                                                            const oci::PlatformMatcher& matcher) {
  return metadata.read([&](metadata::ReadTx& tx) -> Result<std::optional<std::string>> {
    auto id = IMAGED_TRY(tx.resolve_repo_digest(ref.name(), root.str()));
    if (!id) return std::nullopt;
    if (ref.tag()) {
      auto tagged = IMAGED_TRY(tx.resolve_tag(ref.name(), *ref.tag()));
      if (tagged != id) return std::nullopt;
    }
    if (check_platform) {
      // An index digest maps to the image of the platform pulled last time.
      auto image = IMAGED_TRY(tx.get_image(*id));
      if (!matcher.match(oci::Platform{image.os, image.architecture, image.variant, {}, {}}))
        return std::nullopt;
    }
    return id;
  });
}

Result<std::string> Puller::Impl::fetch_config(const Reference& ref, const oci::Descriptor& desc,
                                               const remotes::CallContext& ctx) {
  if (content.info(desc.digest))
    return content::read_blob(content, desc.digest, oci::kMaxConfigSize);
  if (auto cached = recent_config(desc.digest)) return *cached;
  // Shared by concurrent pulls of the same image, like the layers.
  return config_flights.run(desc.digest.str(), ctx.stop,
                            [&](std::stop_token stop, auto&) -> Result<std::string> {
                              remotes::CallContext call = ctx;
                              call.stop = stop;
                              std::string bytes = IMAGED_TRY(remotes::fetch_small_blob(
                                  registry, ref, desc, oci::kMaxConfigSize, "image config", call));
                              remember_config(desc.digest, bytes);
                              return bytes;
                            });
}

// ---- layers -------------------------------------------------------------------------------------

Result<std::vector<metadata::LayerRecord>> Puller::Impl::fetch_layers(
    const Reference& ref, const oci::Manifest& manifest, const oci::ImageConfig& config,
    bool image_known, const remotes::CallContext& ctx, PullProgress& progress,
    std::stop_source& stop) {
  const size_t n = manifest.layers.size();

  // 1. Distinct blobs, in order of first appearance, and which are here already.
  std::vector<LayerTask> tasks;
  std::vector<size_t> task_of(n);
  std::unordered_map<std::string, size_t> by_digest;
  for (size_t i = 0; i < n; ++i) {
    const oci::Descriptor& d = manifest.layers[i];
    auto [it, fresh] = by_digest.try_emplace(d.digest.str(), tasks.size());
    task_of[i] = it->second;
    if (!fresh) continue;
    LayerTask t{.desc = d,
                .compression = IMAGED_TRY(oci::layer_compression(d.media_type)),
                .expected_diff_id = config.diff_ids[i],
                .first = i};
    t.exists = content.info(d.digest).has_value();
    tasks.push_back(std::move(t));
  }

  // 2. dockerd's opening lines: one per layer, then "Waiting" for those queued behind the
  //    concurrency limit.
  std::vector<std::string> ids(n);
  std::vector<bool> pending(n, false);
  std::vector<size_t> downloads;  // task indexes, in order
  for (size_t i = 0; i < n; ++i) ids[i] = layer_short_id(manifest.layers[i].digest);
  for (size_t ti = 0; ti < tasks.size(); ++ti)
    if (!tasks[ti].exists) {
      pending[tasks[ti].first] = true;
      downloads.push_back(ti);
    }
  progress.set_layers(ids, pending);
  for (const LayerTask& t : tasks) {
    if (!t.exists)
      progress.update(ids[t.first], "Pulling fs layer");
    else if (!image_known)
      progress.update(ids[t.first], "Already exists");
  }
  // Twice as many workers as download slots: a worker that has fetched a layer releases its slot
  // and verifies and commits (drains the inflate queue, fsync) while another worker already
  // fetches the next layer in that slot. A pull thus holds at most `limit` places in the
  // limiter's queue beside its slots, so pulls that start later are not starved.
  const size_t slots = static_cast<size_t>(limiter.limit());
  const size_t workers = std::min(downloads.size(), 2 * slots);
  for (size_t k = slots; k < downloads.size(); ++k)
    progress.layer_status(tasks[downloads[k]].first, LayerStatus{LayerStatus::Waiting});

  // 3. Downloads on `workers` threads (each takes the next layer in order, so a pull never holds
  //    more than its share of the queue); local checks of existing layers meanwhile.
  std::mutex err_mu;
  std::optional<Error> first_error;
  auto record = [&](const Error& e) {
    std::lock_guard lock(err_mu);
    // A Canceled caused by our own stop after another failure is not the story.
    if (!first_error || (first_error->code == Errc::Canceled && e.code != Errc::Canceled))
      first_error = e;
    stop.request_stop();
  };
  std::atomic<size_t> next{0};
  {
    std::vector<std::jthread> threads;
    for (size_t w = 0; w < workers; ++w)
      threads.emplace_back([&] {
        for (size_t k; (k = next.fetch_add(1)) < downloads.size();) {
          if (stop.stop_requested()) return;
          LayerTask& t = tasks[downloads[k]];
          auto r = download_layer(ref, t, ctx, progress, stop.get_token());
          if (!r) return record(r.error());
          t.result = *r;
          progress.layer_done(t.first);
        }
      });
    for (LayerTask& t : tasks) {
      if (!t.exists || stop.stop_requested()) continue;
      auto r = existing_layer(t);
      if (!r) {
        record(r.error().context("layer " + t.desc.digest.str()));
        break;
      }
      t.result = *r;
    }
  }
  if (first_error) return fail(*first_error);
  if (stop.stop_requested()) return fail(Errc::Canceled, "pull canceled");

  // 4. Every position against the config (a blob listed twice must match both times).
  std::vector<metadata::LayerRecord> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const LayerTask& t = tasks[task_of[i]];
    const LayerDigests& d = *t.result;
    if (d.diff_id != config.diff_ids[i])
      return fail(diff_id_mismatch(i, t.desc.digest, d.diff_id, config.diff_ids[i]));
    if (!d.unpacked_note.empty() && t.first == i)
      log->warn("layer {}: size as the tar's ({}): {}", t.desc.digest.str(), d.uncompressed_size,
                d.unpacked_note);
    out.push_back(metadata::LayerRecord{.digest = t.desc.digest.str(),
                                        .diff_id = d.diff_id.str(),
                                        .size = d.size,
                                        .uncompressed_size = d.uncompressed_size,
                                        .media_type = manifest.layers[i].media_type,
                                        .unpacked_size = d.unpacked_size});
  }
  return out;
}

Result<LayerDigests> Puller::Impl::existing_layer(const LayerTask& task) {
  if (auto known = recall(task.desc.digest)) return *known;
  auto reader = IMAGED_TRY(content.open(task.desc.digest));
  auto d = IMAGED_TRY(digest_committed_layer(*reader, task.desc.digest, task.compression));
  remember(d);
  return d;
}

Result<LayerDigests> Puller::Impl::download_layer(const Reference& ref, LayerTask& task,
                                                  const remotes::CallContext& ctx,
                                                  PullProgress& progress, std::stop_token stop) {
  const size_t pos = task.first;
  auto observe = [&](const LayerStatus& s) { progress.layer_status(pos, s); };
  // A leader reports its own statuses directly; followers see them through the flight.
  for (int attempt = 0;; ++attempt) {
    bool leader = false;
    remotes::CallContext layer_ctx;
    layer_ctx.auth = ctx.auth;
    layer_ctx.on_retry = [&](const remotes::RetryNotice& n) {
      progress.layer_note(pos, retry_text(n.delay));
    };
    auto fetched = IMAGED_TRY(flights.run(
        task.desc.digest.str(), stop,
        [&](std::stop_token flight_stop,
            SingleFlight<FetchedLayer, LayerStatus>::Publisher& publisher) {
          return fetch_layer(ref, task, layer_ctx, flight_stop, [&](const LayerStatus& s) {
            publisher.publish(s);
            observe(s);
          });
        },
        observe, &leader));
    const LayerDigests& d = fetched.digests;
    if (d.diff_id != task.expected_diff_id)
      return fail(diff_id_mismatch(pos, task.desc.digest, d.diff_id, task.expected_diff_id));
    if (fetched.committed) return d;
    // The leader's config disagreed with these bytes, so it did not commit them; ours agrees.
    if (leader || attempt > 0)
      return fail(Errc::Internal,
                  "layer " + task.desc.digest.str() + " was verified but not committed");
  }
}

// The work of one shared download (runs on the leader's thread).
Result<FetchedLayer> Puller::Impl::fetch_layer(
    const Reference& ref, const LayerTask& task, remotes::CallContext ctx,
    std::stop_token flight_stop, const std::function<void(const LayerStatus&)>& emit) {
  const oci::Descriptor& desc = task.desc;
  ctx.stop = flight_stop;

  // 1. Committed meanwhile (by a flight that ended just before this one began)?
  if (content.info(desc.digest)) {
    auto d = IMAGED_TRY(existing_layer(task));
    emit(LayerStatus{LayerStatus::Complete, d.size, d.size});
    return FetchedLayer{d, true};
  }

  // 2. A download slot, in FIFO order.
  std::optional<DownloadLimiter::Slot> slot = limiter.try_acquire();
  if (!slot) {
    emit(LayerStatus{LayerStatus::Waiting});
    slot = IMAGED_TRY(limiter.acquire(flight_stop));
  }

  // 3. The ingest, resumed when a partial download is there.
  const std::string ingest = layer_ref(desc.digest);
  auto writer = IMAGED_TRY(content.writer(ingest, desc.size));
  auto digester = IMAGED_TRY(LayerDigester::create(*writer, task.compression, options.digester));
  if (writer->offset() > 0) {
    Status replayed = fail(Errc::NotFound, "no reader for partial ingests");
    if (options.open_partial) {
      auto partial = options.open_partial(ingest);
      replayed = partial ? digester->replay(**partial) : fail(partial.error());
    }
    if (!replayed) {
      log->warn("cannot resume {} at offset {} ({}); starting over", desc.digest.str(),
                writer->offset(), replayed.error().message);
      IMAGED_TRY(digester->restart());
    } else {
      log->info("resuming {} at offset {} of {}", desc.digest.str(), writer->offset(), desc.size);
    }
  }

  // 4. Fetch from the offset (Range); a server that ignores Range restarts us from zero.
  const auto fetch_start = std::chrono::steady_clock::now();
  int64_t published = -1;
  auto fetched = registry.fetch_blob(
      ref, desc, writer->offset(),
      [&](std::span<const std::byte> bytes) -> Status {
        IMAGED_TRY(digester->write(bytes));
        const int64_t at = digester->received();
        if (at - published >= kPublishStep || at == desc.size) {
          published = at;
          emit(LayerStatus{LayerStatus::Downloading, at, desc.size});
        }
        return {};
      },
      [&]() -> Status {
        published = -1;
        return digester->restart();
      },
      ctx);
  slot.reset();
  if (!fetched) {
    // The ingest stays for a resume, with every byte received.
    if (auto st = digester->flush(); !st)
      log->warn("keeping the partial download of {}: {}", desc.digest.str(), st.error().message);
    digester.reset();
    writer->close();
    return fail(fetched.error());
  }

  const auto fetch_end = std::chrono::steady_clock::now();

  // 5. Verify digest, size and diff_id before anything is committed.
  emit(LayerStatus{LayerStatus::Verifying, desc.size, desc.size});
  auto digests = digester->finish();
  digester.reset();
  auto discard = [&] {
    writer->close();
    if (auto st = content.abort(ingest); !st && st.error().code != Errc::NotFound)
      log->warn("cannot discard ingest {}: {}", ingest, st.error().message);
  };
  if (writer->offset() != desc.size || writer->digest_so_far() != desc.digest) {
    discard();
    return fail(verification_failed(desc.digest));
  }
  if (!digests) {
    discard();
    return fail(digests.error().context("layer " + desc.digest.str()));
  }
  if (digests->diff_id != task.expected_diff_id) {
    discard();
    return FetchedLayer{*digests, false};
  }
  if (auto st = writer->commit(desc.size, desc.digest);
      !st && st.error().code != Errc::AlreadyExists)
    return fail(st.error());
  remember(*digests);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  log->debug("layer {}: {} bytes fetched in {} ms, verified and committed in {} ms",
             desc.digest.short_id(), fetched->bytes_written, ms(fetch_end - fetch_start),
             ms(std::chrono::steady_clock::now() - fetch_end));
  emit(LayerStatus{LayerStatus::Complete, desc.size, desc.size});
  return FetchedLayer{*digests, true};
}

// ---- Puller -------------------------------------------------------------------------------------

Puller::Puller(content::Store& content, metadata::MetadataStore& metadata,
               remotes::RegistryClient& registry, PullerOptions options)
    : impl_(std::make_unique<Impl>(content, metadata, registry, std::move(options))) {}

Puller::~Puller() = default;

DownloadLimiter& Puller::limiter() { return impl_->limiter; }

Status Puller::pull(const PullRequest& request, const ProgressSink& sink) {
  // This pull's stop: the client went away (request.stop, or the sink refusing a line), or a
  // layer failed (the other layers stop; shared downloads go on for their other pulls).
  std::stop_source stop;
  std::stop_callback client_gone(request.stop, [&] { stop.request_stop(); });
  PullProgress progress(
      sink, [&] { stop.request_stop(); }, impl_->options.progress_interval);
  auto st = impl_->run(request, progress, stop);
  if (!st && progress.gone() && st.error().code != Errc::Canceled)
    return fail(Errc::Canceled, "client went away: " + st.error().message);
  if (!st) impl_->log->info("pull {} failed: {}", request.ref.familiar(), st.error().message);
  return st;
}

}  // namespace imaged::images
