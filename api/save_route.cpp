#include "api/save_route.h"

#include "api/http_status.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"

namespace imaged::api {

namespace {

constexpr size_t kFlushBytes = 256 * 1024;  // chunk size on the wire

}  // namespace

void handle_images_get(images::ImageArchiveWriter& archive, Request& request,
                       ResponseWriter& writer) {
  std::vector<std::string> names;
  if (auto name = request.param("name"); !name.empty())
    names.emplace_back(name);
  else
    names = request.query.get_all("names");
  auto plan = archive.plan(names);
  if (!plan) {
    writer.error(plan.error());
    return;
  }
  if (!writer.begin_stream(200, "application/x-tar")) return;
  std::string pending;
  pending.reserve(kFlushBytes);
  const Status st = archive.write(*plan, [&](std::string_view bytes) {
    pending.append(bytes);
    if (pending.size() < kFlushBytes) return true;
    const bool ok = writer.write(pending);
    pending.clear();
    return ok;
  });
  if (!st) {
    writer.abort();
    return;
  }
  if (!pending.empty() && !writer.write(pending)) return;
  writer.end();
}

void register_save_routes(Router& router, images::ImageArchiveWriter& archive) {
  router.add(Method::Get, "/images/get", [&archive](Request& request, ResponseWriter& writer) {
    handle_images_get(archive, request, writer);
  });
  router.add(Method::Get, "/images/{name:.*}/get",
             [&archive](Request& request, ResponseWriter& writer) {
               handle_images_get(archive, request, writer);
             });
}

}  // namespace imaged::api
