#include "common/images/image_tagger.h"

#include "common/images/event_log.h"
#include "common/images/image_lookup.h"
#include "common/metadata/metadata_store.h"

namespace imaged::images {

Result<Reference> check_tag_target(const Reference& target) {
  if (target.digest())
    return fail(Errc::InvalidArgument, "refusing to create a tag with a digest reference");
  if (target.familiar_name() == "sha256")
    return fail(Errc::InvalidArgument,
                "refusing to create an ambiguous tag using digest algorithm as name");
  return target.with_default_tag();
}

Status tag_image(metadata::MetadataStore& metadata, EventLog& events, std::string_view source,
                 const Reference& target) {
  const Reference ref = IMAGED_TRY(check_tag_target(target));
  IMAGED_TRY(metadata.write([&](metadata::WriteTx& tx) -> Status {
    const LookupResult found = IMAGED_TRY(lookup_image(tx, source));
    const int64_t now = events.now_ns();
    IMAGED_TRY(tx.set_tag(ref.name(), *ref.tag(), found.image_id, now));
    // dockerd's LogImageEvent(imageID, FamiliarString(newTag), "tag"), labels included.
    const metadata::ImageRecord image = IMAGED_TRY(tx.get_image(found.image_id));
    Event e = image_event("tag", found.image_id, ref.familiar(), image.labels_json);
    e.time_ns = now;
    IMAGED_TRY(events.append(tx, std::move(e)));
    return {};
  }));
  events.notify();
  return {};
}

}  // namespace imaged::images
