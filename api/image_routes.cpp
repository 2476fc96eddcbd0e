#include "api/image_routes.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <nlohmann/json.hpp>

#include "api/image_json.h"
#include "api/json_stream.h"
#include "api/router.h"
#include "common/images/event_log.h"
#include "common/images/image_service.h"
#include "common/images/timestamps.h"

namespace imaged::api {

namespace {

using Clock = std::chrono::system_clock;

Clock::time_point from_ns(int64_t ns) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

// Go's fmt of a []string: "[a b]".
std::string go_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
  return out + "]";
}

Error invalid_filter(const Filters& f, std::string_view key) {
  return Error{Errc::InvalidArgument,
               "Invalid filter '" + std::string(key) + "=" + go_list(f.get(key)) + "'"};
}

// At most one `until`; a time or a duration before now (moby's getUntilFilter).
Result<std::optional<Clock::time_point>> until_filter(const Filters& f) {
  if (!f.contains("until")) return std::optional<Clock::time_point>();
  const auto values = f.get("until");
  if (values.size() > 1) return fail(Errc::InvalidArgument, "more than one until filter specified");
  const int64_t ns =
      IMAGED_TRY(images::parse_time_or_duration(values.front(), images::now_unix_ns()));
  return std::optional(from_ns(ns));
}

// ---- GET /images/json ---------------------------------------------------------------------------

constexpr std::array<std::string_view, 7> kListFilters = {
    "before", "dangling", "label", "label!", "reference", "since", "until"};

Result<images::ListOptions> list_options(const Request& req) {
  Filters filters = IMAGED_TRY(Filters::parse(req.query.value("filters")));
  // The legacy `filter` parameter (a repository glob) counted below 1.41.
  if (!req.version.at_least(1, 41)) {
    if (auto legacy = req.query.value("filter"); !legacy.empty()) filters.add("reference", legacy);
  }
  IMAGED_TRY(filters.validate(kListFilters));
  images::ListOptions o;
  o.all = req.query.get_bool("all");
  if (filters.contains("dangling")) {
    if (filters.exact_match("dangling", "true"))
      o.dangling = true;
    else if (filters.exact_match("dangling", "false"))
      o.dangling = false;
    else
      return fail(invalid_filter(filters, "dangling"));
  }
  o.references = filters.get("reference");
  o.labels = filters.get("label");
  o.label_not = filters.get("label!");
  if (auto v = filters.get("before"); !v.empty()) o.before = v.back();
  if (auto v = filters.get("since"); !v.empty()) o.since = v.back();
  o.until = IMAGED_TRY(until_filter(filters));
  o.shared_size = req.version.at_least(1, 42) && req.query.get_bool("shared-size");
  return o;
}

void list_images(images::ImageService& service, Request& req, ResponseWriter& w) {
  auto options = list_options(req);
  if (!options) return (void)w.error(options.error());
  auto list = service.list(*options);
  if (!list) return (void)w.error(list.error());
  w.json_text(200, image_list_json_text(*list, req.version));
}

// ---- GET /images/{name}/json, /history ----------------------------------------------------------

void inspect_image(images::ImageService& service, Request& req, ResponseWriter& w) {
  auto detail = service.inspect(req.param("name"));
  if (!detail) return (void)w.error(detail.error());
  w.json_text(200, image_inspect_json_text(*detail, req.version));
}

void image_history(images::ImageService& service, Request& req, ResponseWriter& w) {
  auto rows = service.history(req.param("name"));
  if (!rows) return (void)w.error(rows.error());
  w.json(200, history_json(*rows));
}

// ---- POST /images/{name}/tag --------------------------------------------------------------------

// moby's httputils.RepoTagReference: `repo` is a repository (a tag in it is kept when `tag` is
// empty; "latest" otherwise); checked before the source image is looked up.
Result<Reference> tag_target(const Request& req) {
  const std::string repo = req.query.value("repo");
  const std::string tag = req.query.value("tag");
  if (repo.empty()) return fail(Errc::InvalidArgument, "invalid reference format");
  Reference ref = IMAGED_TRY(Reference::parse(repo));
  if (ref.digest())
    return fail(Errc::InvalidArgument, "refusing to create a tag with a digest reference");
  if (!tag.empty()) ref = IMAGED_TRY(ref.with_checked_tag(tag));
  return ref.with_default_tag();
}

void tag_image(images::ImageService& service, Request& req, ResponseWriter& w) {
  auto target = tag_target(req);
  if (!target) return (void)w.error(target.error());
  if (auto st = service.tag(req.param("name"), *target); !st) return (void)w.error(st.error());
  w.empty(201);
}

// ---- DELETE /images/{name} ----------------------------------------------------------------------

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n'; });
}

void remove_image(images::ImageService& service, Request& req, ResponseWriter& w) {
  const std::string_view name = req.param("name");
  if (blank(name)) return (void)w.error(Error{Errc::InvalidArgument, "image name cannot be blank"});
  auto items = service.remove(name, req.query.get_bool("force"), req.query.get_bool("noprune"));
  if (!items) return (void)w.error(items.error());
  w.json(200, delete_items_json(*items));
}

// ---- POST /images/prune -------------------------------------------------------------------------

constexpr std::array<std::string_view, 4> kPruneFilters = {"dangling", "label", "label!", "until"};

Result<images::PruneOptions> prune_options(const Request& req) {
  const Filters filters = IMAGED_TRY(parse_filters(req.query, kPruneFilters));
  images::PruneOptions o;
  if (filters.contains("dangling")) {
    if (filters.exact_match("dangling", "false") || filters.exact_match("dangling", "0"))
      o.dangling_only = false;
    else if (!filters.exact_match("dangling", "true") && !filters.exact_match("dangling", "1"))
      return fail(invalid_filter(filters, "dangling"));
  }
  o.until = IMAGED_TRY(until_filter(filters));
  o.labels = filters.get("label");
  o.label_not = filters.get("label!");
  return o;
}

void prune_images(images::ImageService& service, Request& req, ResponseWriter& w) {
  auto options = prune_options(req);
  if (!options) return (void)w.error(options.error());
  auto report = service.prune(*options);
  if (!report) return (void)w.error(report.error());
  w.json(200, prune_report_json(*report));
}

// ---- GET /system/df -----------------------------------------------------------------------------

Result<DiskUsageParts> disk_usage_parts(const Request& req) {
  const auto types = req.query.get_all("type");
  if (!req.version.at_least(1, 42) || types.empty()) return DiskUsageParts{};
  DiskUsageParts parts{false, false, false, false};
  for (const std::string& t : types) {
    if (t == "container")
      parts.containers = true;
    else if (t == "image")
      parts.images = true;
    else if (t == "volume")
      parts.volumes = true;
    else if (t == "build-cache")
      parts.build_cache = true;
    else
      return fail(Errc::InvalidArgument, "unknown object type: " + t);
  }
  return parts;
}

void system_df(images::ImageService& service, Request& req, ResponseWriter& w) {
  auto parts = disk_usage_parts(req);
  if (!parts) return (void)w.error(parts.error());
  images::DiskUsage du;
  if (parts->images) {
    auto got = service.disk_usage();
    if (!got) return (void)w.error(got.error());
    du = std::move(*got);
  }
  w.json(200, disk_usage_json(du, req.version, *parts));
}

// ---- GET /events --------------------------------------------------------------------------------

Result<std::optional<int64_t>> event_time(const Request& req, std::string_view key) {
  const std::string value = req.query.value(key);
  if (value.empty()) return std::optional<int64_t>();
  return std::optional(IMAGED_TRY(images::parse_unix_timestamp(value)));
}

void events(images::EventLog& log, Request& req, ResponseWriter& w) {
  // 1. Parameters, all checked before the stream starts (errors are plain HTTP errors).
  auto since = event_time(req, "since");
  if (!since) return (void)w.error(since.error());
  auto until = event_time(req, "until");
  if (!until) return (void)w.error(until.error());
  if (*since && *until && **until < **since) {
    return (void)w.error(Error{Errc::InvalidArgument, "`since` time (" + req.query.value("since") +
                                                          ") cannot be after `until` time (" +
                                                          req.query.value("until") + ")"});
  }
  auto filters = parse_filters(req.query, images::EventFilter::known_keys());
  if (!filters) return (void)w.error(filters.error());
  images::EventFilter filter;
  for (const auto& [k, values] : filters->fields()) filter.fields[k] = values;

  // 2. Replay (only with since or until, as dockerd) and subscribe from the same snapshot.
  const bool replay = since->has_value() || until->has_value();
  const int64_t until_ns = until->value_or(INT64_MAX);
  auto follow = log.follow(replay, since->value_or(0), until_ns, std::move(filter));
  if (!follow) return (void)w.error(follow.error());

  // 3. Headers now, then the replay, then live events until `until` or the client leaves.
  JsonStream stream(w, "\n");
  if (!stream.begin()) return;
  for (const auto& e : follow->replay)
    if (!stream.send(event_json(e, req.version))) return;
  const auto steady_deadline = [&] {
    if (!until->has_value()) return std::chrono::steady_clock::time_point::max();
    const int64_t left = until_ns - images::now_unix_ns();
    return std::chrono::steady_clock::now() + std::chrono::nanoseconds(std::max<int64_t>(left, 0));
  }();
  // The stream ends when the client leaves or the daemon stops; wake the wait at once then.
  const auto gone = [&] { return w.canceled() || w.stopping(); };
  auto wake = w.on_interrupt([&log] { log.notify(); });
  while (!gone() && std::chrono::steady_clock::now() < steady_deadline) {
    const auto slice =
        std::min(steady_deadline, std::chrono::steady_clock::now() + std::chrono::hours(1));
    auto got = follow->live.wait(slice, gone);
    if (!got) break;  // shutting down: end the stream cleanly
    for (const auto& e : *got) {
      if (e.time_ns > until_ns) break;
      if (!stream.send(event_json(e, req.version))) return;
    }
  }
  stream.finish();
}

class ImageInfoSource final : public SystemInfoSource {
 public:
  explicit ImageInfoSource(images::ImageService& service) : service_(service) {}
  Result<std::int64_t> image_count() override { return service_.image_count(); }

 private:
  images::ImageService& service_;
};

}  // namespace

void register_image_routes(Router& router, images::ImageService& service, images::EventLog& log) {
  auto* s = &service;
  auto* l = &log;
  router.add(Method::Get, "/images/json",
             [s](Request& req, ResponseWriter& w) { list_images(*s, req, w); });
  router.add(Method::Post, "/images/prune",
             [s](Request& req, ResponseWriter& w) { prune_images(*s, req, w); });
  router.add(Method::Get, "/images/{name:.*}/json",
             [s](Request& req, ResponseWriter& w) { inspect_image(*s, req, w); });
  router.add(Method::Get, "/images/{name:.*}/history",
             [s](Request& req, ResponseWriter& w) { image_history(*s, req, w); });
  router.add(Method::Post, "/images/{name:.*}/tag",
             [s](Request& req, ResponseWriter& w) { tag_image(*s, req, w); });
  router.add(Method::Delete, "/images/{name:.*}",
             [s](Request& req, ResponseWriter& w) { remove_image(*s, req, w); });
  router.add(Method::Get, "/system/df",
             [s](Request& req, ResponseWriter& w) { system_df(*s, req, w); });
  router.add(Method::Get, "/events", [l](Request& req, ResponseWriter& w) { events(*l, req, w); });
}

std::unique_ptr<SystemInfoSource> make_image_info_source(images::ImageService& service) {
  return std::make_unique<ImageInfoSource>(service);
}

}  // namespace imaged::api
