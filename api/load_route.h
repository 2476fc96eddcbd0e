// POST /images/load?quiet=: `docker load` (engine-api.md §2). The body is the archive (plain or
// gzip/bzip2/xz tar), read incrementally (no body limit). Always 200 application/json, chunked:
// one {"stream":"Loaded image: busybox:media\n"} (or "Loaded image ID: sha256:…\n") per image;
// any error is the in-stream {"errorDetail":…} line, and nothing is stored (image_loader.h).
// `quiet` (default true) makes no difference: imaged reports no per-layer progress.
#pragma once

#include "common/images/image_loader.h"

namespace imaged::api {

class Router;
struct Request;
class ResponseWriter;

void register_load_routes(Router& router, images::ImageLoader& loader);
void handle_images_load(images::ImageLoader& loader, Request& request, ResponseWriter& writer);

}  // namespace imaged::api
