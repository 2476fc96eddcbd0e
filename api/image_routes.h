// Image management routes of the Engine API (engine-api.md §3.1–§3.8), served by the
// ImageService and the EventLog:
//   GET    /images/json                    list (all, digests, shared-size, filters)
//   GET    /images/{name}/json             inspect
//   GET    /images/{name}/history          history
//   POST   /images/{name}/tag              tag (201)
//   DELETE /images/{name}                  remove (force, noprune)
//   POST   /images/prune                   prune
//   GET    /system/df                      disk usage (type)
//   GET    /events                         event stream (since, until, filters)
// Names use {name:.*}: they may contain '/' and ':' ("127.0.0.1:5000/x/y:t"). Query parsing,
// validation and version shaping happen here; the domain rules live in common/images.
//
// Lifetime: the service and the event log must outlive the router's use.
#pragma once

#include <memory>

#include "api/system_routes.h"

namespace imaged::images {
class EventLog;
class ImageService;
}  // namespace imaged::images

namespace imaged::api {

class Router;

void register_image_routes(Router& router, images::ImageService& service, images::EventLog& events);

// The image count of /info (distinct image IDs), from the service.
std::unique_ptr<SystemInfoSource> make_image_info_source(images::ImageService& service);

}  // namespace imaged::api
