// Root filesystems of containers: the image's layers unpacked, in order, into a directory of the
// container's own (a private copy: what the container writes never reaches the image store).
//
// Each layer is a tar, compressed or not (gzip, zstd... — libarchive detects the filter),
// applied as moby's archive.ApplyLayer does: entries are extracted with owners, modes, times and
// extended attributes; a whiteout ".wh.<name>" removes <name> from the layers below; an opaque
// marker ".wh..wh..opq" empties its directory of what the layers below put there.
//
// Hostile layers cannot write outside the root: names are cleaned (leading "/" and "./" removed,
// ".." refused), libarchive refuses to extract through a symlink, and whiteouts never follow one.
#pragma once

#include <filesystem>
#include <vector>

#include "common/digest.h"
#include "common/error.h"

namespace imaged::content {
class Provider;
}

namespace imaged::containers {

// Unpacks the layer blobs `layers` (bottom first) from `content` into `root` (an existing empty
// directory). Errors: NotFound for a missing blob, InvalidArgument for a broken or hostile tar,
// Internal for a failed write (the message names the entry).
Status unpack_layers(content::Provider& content, const std::vector<Digest>& layers,
                     const std::filesystem::path& root);

}  // namespace imaged::containers
