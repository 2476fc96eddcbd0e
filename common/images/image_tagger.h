// POST /images/{name}/tag: points a tag at the image `source` refers to (dockerd's TagImage).
//
// Checks, with dockerd's messages (InvalidArgument): a target with a digest is refused ("refusing
// to create a tag with a digest reference"), a repository named "sha256" too ("refusing to create
// an ambiguous tag using digest algorithm as name"); a target without tag gets "latest".
// Re-tagging moves the tag silently; every creation and move is recorded in tag history. One
// write transaction: the lookup, the tag, the image's LastTagTime and the `tag` event
// (Actor.ID = image ID, Attributes.name = the new ref, familiar, plus the image's labels).
// Errors: as lookup_image for `source`; store errors (nothing changed then).
#pragma once

#include <string_view>

#include "common/error.h"
#include "common/reference.h"

namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

class EventLog;

// Validates a tag target; returns it with "latest" added when it has no tag.
Result<Reference> check_tag_target(const Reference& target);

Status tag_image(metadata::MetadataStore& metadata, EventLog& events, std::string_view source,
                 const Reference& target);

}  // namespace imaged::images
