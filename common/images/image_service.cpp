// ImageService: the facade. Each concern lives in its own file (image_lookup, image_tagger,
// image_lister, image_inspector, image_remover, event_log, blob_sweeper; pull in puller); this
// file only owns the collaborators and delegates.
#include "common/images/image_service.h"

#include "common/content/content.h"
#include "common/images/blob_sweeper.h"
#include "common/images/event_log.h"
#include "common/images/image_index.h"
#include "common/images/image_inspector.h"
#include "common/images/image_lister.h"
#include "common/images/image_lookup.h"
#include "common/images/image_remover.h"
#include "common/images/image_tagger.h"
#include "common/images/puller.h"
#include "common/metadata/metadata_store.h"

namespace imaged::images {

struct ImageService::Impl {
  Impl(content::Store& content, metadata::MetadataStore& metadata,
       remotes::RegistryClient& registry, EventLog& events, ImageServiceOptions options)
      : content(content),
        metadata(metadata),
        registry(registry),
        events(events),
        options(std::move(options)),
        sweeper(content, metadata),
        remover(metadata, events, sweeper),
        puller(content, metadata, registry, puller_options(this->options, events, sweeper)) {}

  static PullerOptions puller_options(const ImageServiceOptions& o, EventLog& events,
                                      BlobSweeper& sweeper) {
    PullerOptions p;
    if (!o.platform.os.empty()) p.platform = o.platform;
    p.max_concurrent_downloads = o.max_concurrent_downloads;
    p.open_partial = o.open_partial;
    p.events = &events;
    p.sweeper = &sweeper;
    return p;
  }

  content::Store& content;
  metadata::MetadataStore& metadata;
  remotes::RegistryClient& registry;
  EventLog& events;
  ImageServiceOptions options;
  BlobSweeper sweeper;
  ImageRemover remover;
  ImageIndexCache index;  // images with their names, per names_version (list, df, inspect)
  Puller puller;
};

ImageService::ImageService(content::Store& content, metadata::MetadataStore& metadata,
                           remotes::RegistryClient& registry, EventLog& events,
                           ImageServiceOptions options)
    : impl_(std::make_unique<Impl>(content, metadata, registry, events, std::move(options))) {}

ImageService::~ImageService() = default;

Status ImageService::pull(const PullRequest& request, const ProgressSink& progress) {
  return impl_->puller.pull(request, progress);
}

Result<Digest> ImageService::resolve(std::string_view name) {
  auto found = IMAGED_TRY(
      impl_->metadata.read([&](metadata::ReadTx& tx) { return lookup_image(tx, name); }));
  return Digest::parse(found.image_id);
}

Status ImageService::tag(std::string_view source, const Reference& target) {
  return tag_image(impl_->metadata, impl_->events, source, target);
}

Result<std::vector<ImageSummary>> ImageService::list(const ListOptions& options) {
  return impl_->metadata.read([&](metadata::ReadTx& tx) -> Result<std::vector<ImageSummary>> {
    auto index = IMAGED_TRY(impl_->index.get(tx));
    return list_images(tx, *index, options, options.shared_size);
  });
}

Result<ImageDetail> ImageService::inspect(std::string_view name) {
  return inspect_image(impl_->metadata, impl_->content, name, &impl_->index);
}

void ImageService::set_image_users(const ImageUsers* users) { impl_->remover.set_users(users); }

Result<std::vector<Digest>> ImageService::layer_blobs(const Digest& id) {
  auto layers = IMAGED_TRY(
      impl_->metadata.read([&](metadata::ReadTx& tx) { return tx.layers_of(id.str()); }));
  std::vector<Digest> out;
  for (const auto& layer : layers) out.push_back(IMAGED_TRY(Digest::parse(layer.digest)));
  return out;
}

Result<std::vector<HistoryEntry>> ImageService::history(std::string_view name) {
  return image_history(impl_->metadata, impl_->content, name, &impl_->index);
}

Result<std::vector<DeleteItem>> ImageService::remove(std::string_view name, bool force,
                                                     bool /*noprune: no parent chains*/) {
  return impl_->remover.remove(name, force);
}

Result<PruneReport> ImageService::prune(const PruneOptions& options) {
  return impl_->remover.prune(options);
}

Result<DiskUsage> ImageService::disk_usage() {
  return impl_->metadata.read([&](metadata::ReadTx& tx) -> Result<DiskUsage> {
    auto index = IMAGED_TRY(impl_->index.get(tx));
    return images::disk_usage(tx, *index);
  });
}

Result<int64_t> ImageService::image_count() {
  return impl_->metadata.read([](metadata::ReadTx& tx) { return tx.image_count(); });
}

BlobSweeper& ImageService::sweeper() { return impl_->sweeper; }

}  // namespace imaged::images
