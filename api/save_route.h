// GET /images/{name}/get and GET /images/get?names=a&names=b: `docker save` (engine-api.md §2).
// 200 application/x-tar, chunked, streamed with bounded memory (image_archive_writer.h). Errors
// before the first byte are plain HTTP errors (404 "No such image: …", 400 bad reference); a
// failure in the middle aborts the connection so the client sees a truncated transfer.
#pragma once

#include "common/images/image_archive_writer.h"

namespace imaged::api {

class Router;
struct Request;
class ResponseWriter;

void register_save_routes(Router& router, images::ImageArchiveWriter& writer);
void handle_images_get(images::ImageArchiveWriter& archive, Request& request,
                       ResponseWriter& writer);

}  // namespace imaged::api
