// Image management commands: images/ls, inspect, history, tag, rmi, prune, df.
#include <iostream>
#include <sstream>

#include "client/cli.h"
#include "client/format.h"
#include "common/reference.h"

namespace imaged::client {

namespace {

using nlohmann::json;

std::int64_t int_of(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<std::int64_t>();
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key) && j[key].is_array())
    for (auto& v : j[key])
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// "busybox:musl" -> {"busybox","musl"}; "localhost:5000/x:1" -> {"localhost:5000/x","1"}.
std::pair<std::string, std::string> split_repo_tag(const std::string& ref, char sep) {
  auto slash = ref.rfind('/');
  auto pos = ref.rfind(sep);
  if (pos == std::string::npos || (slash != std::string::npos && pos < slash)) return {ref, ""};
  return {ref.substr(0, pos), ref.substr(pos + 1)};
}

std::string familiar(const std::string& ref) {
  auto r = Reference::parse(ref);
  return r ? r->familiar() : ref;
}

// Filters "k=v" -> {"k":{"v":true}}.
Result<std::string> filters_json(const std::vector<std::string>& filters,
                                 json base = json::object()) {
  for (auto& f : filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(Errc::InvalidArgument, "bad format of filter (expected name=value): " + f);
    base[f.substr(0, eq)][f.substr(eq + 1)] = true;
  }
  return base.dump();
}

int print_rows(Context& ctx, const std::string& format, const std::string& default_format,
               const std::vector<std::string>& fields,
               const std::map<std::string, std::string>& headers, const std::vector<Row>& rows) {
  auto tmpl =
      Template::parse(format.empty() || format == "table" ? default_format : format, fields);
  if (!tmpl) return ctx.usage(tmpl.error().message);
  ctx.out << render(*tmpl, rows, headers) << std::flush;
  return kExitOk;
}

const std::vector<std::string> kImageFields = {
    "Repository", "Tag",        "Digest",     "ID",          "CreatedSince", "CreatedAt",
    "Size",       "SharedSize", "UniqueSize", "VirtualSize", "Containers"};
const std::map<std::string, std::string> kImageHeaders = {{"Repository", "REPOSITORY"},
                                                          {"Tag", "TAG"},
                                                          {"Digest", "DIGEST"},
                                                          {"ID", "IMAGE ID"},
                                                          {"CreatedSince", "CREATED"},
                                                          {"CreatedAt", "CREATED AT"},
                                                          {"Size", "SIZE"},
                                                          {"SharedSize", "SHARED SIZE"},
                                                          {"UniqueSize", "UNIQUE SIZE"},
                                                          {"VirtualSize", "VIRTUAL SIZE"},
                                                          {"Containers", "CONTAINERS"}};

std::vector<Row> image_rows(const json& images, std::int64_t now, bool no_trunc) {
  std::vector<Row> rows;
  for (auto& img : images) {
    std::string id = img.value("Id", "");
    std::int64_t created = int_of(img, "Created");
    std::int64_t size = int_of(img, "Size");
    std::int64_t shared = int_of(img, "SharedSize");
    auto tags = strings_of(img, "RepoTags");
    auto digests = strings_of(img, "RepoDigests");
    std::erase(tags, "<none>:<none>");
    std::erase(digests, "<none>@<none>");
    auto make = [&](const std::string& repo, const std::string& tag, const std::string& digest) {
      Row r;
      r.fields = {
          {"Repository", repo},
          {"Tag", tag},
          {"Digest", digest},
          {"ID", short_id(id, no_trunc)},
          {"CreatedSince", time_ago(created, now)},
          {"CreatedAt", created_at(created)},
          {"Size", human_size(static_cast<double>(size))},
          {"SharedSize", shared < 0 ? "N/A" : human_size(static_cast<double>(shared))},
          {"UniqueSize", shared < 0 ? "N/A" : human_size(static_cast<double>(size - shared))},
          {"VirtualSize", human_size(static_cast<double>(size))},
          {"Containers",
           int_of(img, "Containers") < 0 ? "N/A" : std::to_string(int_of(img, "Containers"))}};
      rows.push_back(std::move(r));
    };
    auto digest_for = [&](const std::string& repo) -> std::string {
      for (auto& d : digests) {
        auto [r, dg] = split_repo_tag(familiar(d), '@');
        if (r == repo) return dg;
      }
      return "<none>";
    };
    if (tags.empty()) {
      if (digests.empty()) {
        make("<none>", "<none>", "<none>");
      } else {
        auto [r, dg] = split_repo_tag(familiar(digests.front()), '@');
        make(r, "<none>", dg);
      }
      continue;
    }
    for (auto& t : tags) {
      auto [repo, tag] = split_repo_tag(familiar(t), ':');
      make(repo, tag, digest_for(repo));
    }
  }
  return rows;
}

int cmd_images(Context& ctx, const ParsedArgs& a) {
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  json base = json::object();
  if (!a.positionals.empty()) base["reference"][a.positionals[0]] = true;
  auto filters = filters_json(a.all("filter"), base);
  if (!filters) return ctx.usage(filters.error().message);
  std::vector<std::pair<std::string, std::string>> query;
  if (a.flag("all")) query.emplace_back("all", "1");
  if (*filters != "{}") query.emplace_back("filters", *filters);
  auto images = (*http)->get_json("/images/json", query);
  if (!images) return ctx.fail(images.error().message);
  bool no_trunc = a.flag("no-trunc");
  auto rows = image_rows(*images, ctx.now, no_trunc);
  if (a.flag("quiet")) {
    std::string last;
    for (auto& r : rows) {
      if (*r.get("ID") == last) continue;  // one line per image, not per tag
      last = *r.get("ID");
      ctx.out << last << "\n";
    }
    return kExitOk;
  }
  std::string def =
      a.flag("digests")
          ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
          : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  return print_rows(ctx, a.get("format"), def, kImageFields, kImageHeaders, rows);
}

int cmd_inspect(Context& ctx, const ParsedArgs& a) {
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  json found = json::array();
  std::vector<std::string> errors;
  for (auto& name : a.positionals) {
    auto img = (*http)->get_json("/images/" + name + "/json");
    if (!img) {
      errors.push_back(img.error().code == Errc::NotFound ? "No such image: " + name
                                                          : img.error().message);
      continue;
    }
    found.push_back(*img);
  }
  std::string format = a.get("format");
  if (format.empty() || format == "json") {
    ctx.out << found.dump(4) << "\n";
  } else {
    for (auto& img : found) {
      auto line = expand_json_template(format, img);
      if (!line) return ctx.usage(line.error().message);
      ctx.out << *line << "\n";
    }
  }
  ctx.out << std::flush;
  for (auto& e : errors) ctx.err << "imagectl: " << e << "\n";
  return errors.empty() ? kExitOk : kExitError;
}

int cmd_history(Context& ctx, const ParsedArgs& a) {
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  auto hist = (*http)->get_json("/images/" + a.positionals[0] + "/history");
  if (!hist) return ctx.fail(hist.error().message);
  bool no_trunc = a.flag("no-trunc");
  std::vector<Row> rows;
  for (auto& h : *hist) {
    std::string id = h.value("Id", "");
    std::string by = h.value("CreatedBy", "");
    for (auto& c : by)
      if (c == '\t' || c == '\n') c = ' ';
    std::int64_t created = int_of(h, "Created");
    Row r;
    r.fields = {{"ID", id == "<missing>" ? id : short_id(id, no_trunc)},
                {"CreatedSince", time_ago(created, ctx.now)},
                {"CreatedAt", created_at(created)},
                {"CreatedBy", no_trunc ? by : ellipsis(by, 45)},
                {"Size", human_size(static_cast<double>(int_of(h, "Size")))},
                {"Comment", h.value("Comment", "")}};
    rows.push_back(std::move(r));
  }
  if (a.flag("quiet")) {
    for (auto& r : rows) ctx.out << *r.get("ID") << "\n";
    return kExitOk;
  }
  return print_rows(ctx, a.get("format"),
                    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                    {"ID", "CreatedSince", "CreatedAt", "CreatedBy", "Size", "Comment"},
                    {{"ID", "IMAGE"},
                     {"CreatedSince", "CREATED"},
                     {"CreatedAt", "CREATED AT"},
                     {"CreatedBy", "CREATED BY"},
                     {"Size", "SIZE"},
                     {"Comment", "COMMENT"}},
                    rows);
}

int cmd_tag(Context& ctx, const ParsedArgs& a) {
  auto target = Reference::parse(a.positionals[1]);
  if (!target)
    return ctx.fail("Error parsing reference: \"" + a.positionals[1] +
                    "\" is not a valid repository/tag: " + target.error().message);
  if (target->digest()) return ctx.fail("refusing to create a tag with a digest reference");
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  auto r = (*http)->call(
      HttpRequest{.method = "POST",
                  .path = "/images/" + a.positionals[0] + "/tag",
                  .query = {{"repo", target->name()}, {"tag", target->tag().value_or("latest")}}});
  if (!r) return ctx.fail(r.error().message);
  return kExitOk;
}

int cmd_rmi(Context& ctx, const ParsedArgs& a) {
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  int rc = kExitOk;
  for (auto& name : a.positionals) {
    HttpRequest req{.method = "DELETE", .path = "/images/" + name};
    if (a.flag("force")) req.query.emplace_back("force", "1");
    if (a.flag("no-prune")) req.query.emplace_back("noprune", "1");
    auto r = (*http)->call(req);
    if (!r) {
      ctx.err << "imagectl: " << r.error().message << "\n";
      rc = kExitError;
      continue;
    }
    auto items = json::parse(r->body, nullptr, false);
    if (items.is_array())
      for (auto& item : items) {
        if (item.contains("Untagged"))
          ctx.out << "Untagged: " << item["Untagged"].get<std::string>() << "\n";
        if (item.contains("Deleted"))
          ctx.out << "Deleted: " << item["Deleted"].get<std::string>() << "\n";
      }
  }
  ctx.out << std::flush;
  return rc;
}

int cmd_prune(Context& ctx, const ParsedArgs& a) {
  json base = json::object();
  base["dangling"][a.flag("all") ? "false" : "true"] = true;
  auto filters = filters_json(a.all("filter"), base);
  if (!filters) return ctx.usage(filters.error().message);
  if (!a.flag("force")) {
    ctx.out << (a.flag("all") ? "WARNING! This will remove all images without at least one "
                                "container associated to them."
                              : "WARNING! This will remove all dangling images.")
            << "\nAre you sure you want to continue? [y/N] " << std::flush;
    std::string answer;
    std::getline(ctx.in, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") return kExitOk;
  }
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  auto r = (*http)->call(
      HttpRequest{.method = "POST", .path = "/images/prune", .query = {{"filters", *filters}}});
  if (!r) return ctx.fail(r.error().message);
  auto j = json::parse(r->body, nullptr, false);
  if (j.is_object() && j.contains("ImagesDeleted") && j["ImagesDeleted"].is_array() &&
      !j["ImagesDeleted"].empty()) {
    ctx.out << "Deleted Images:\n";
    for (auto& item : j["ImagesDeleted"]) {
      if (item.contains("Untagged"))
        ctx.out << "untagged: " << item["Untagged"].get<std::string>() << "\n";
      if (item.contains("Deleted"))
        ctx.out << "deleted: " << item["Deleted"].get<std::string>() << "\n";
    }
    ctx.out << "\n";
  }
  ctx.out << "Total reclaimed space: "
          << human_size(static_cast<double>(j.is_object() ? int_of(j, "SpaceReclaimed") : 0))
          << "\n"
          << std::flush;
  return kExitOk;
}

int cmd_df(Context& ctx, const ParsedArgs& a) {
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  auto df = (*http)->get_json("/system/df");
  if (!df) return ctx.fail(df.error().message);
  json images =
      df->contains("Images") && (*df)["Images"].is_array() ? (*df)["Images"] : json::array();
  std::int64_t layers = int_of(*df, "LayersSize");
  std::int64_t active = 0, used = 0;
  for (auto& img : images)
    if (int_of(img, "Containers") > 0) {
      ++active;
      used += int_of(img, "Size") - std::max<std::int64_t>(0, int_of(img, "SharedSize"));
    }
  std::int64_t reclaim = std::max<std::int64_t>(0, layers - used);
  auto pct = [](std::int64_t part, std::int64_t whole) {
    return whole > 0 ? " (" + std::to_string(part * 100 / whole) + "%)" : std::string();
  };
  std::size_t containers =
      df->contains("Containers") && (*df)["Containers"].is_array() ? (*df)["Containers"].size() : 0;
  std::size_t volumes =
      df->contains("Volumes") && (*df)["Volumes"].is_array() ? (*df)["Volumes"].size() : 0;
  std::vector<Row> rows = {
      {{{"Type", "Images"},
        {"TotalCount", std::to_string(images.size())},
        {"Active", std::to_string(active)},
        {"Size", human_size(static_cast<double>(layers), 4)},
        {"Reclaimable", human_size(static_cast<double>(reclaim), 4) + pct(reclaim, layers)}}},
      {{{"Type", "Containers"},
        {"TotalCount", std::to_string(containers)},
        {"Active", "0"},
        {"Size", "0B"},
        {"Reclaimable", "0B"}}},
      {{{"Type", "Local Volumes"},
        {"TotalCount", std::to_string(volumes)},
        {"Active", "0"},
        {"Size", "0B"},
        {"Reclaimable", "0B"}}},
      {{{"Type", "Build Cache"},
        {"TotalCount", "0"},
        {"Active", "0"},
        {"Size", "0B"},
        {"Reclaimable", "0B"}}}};
  if (!a.flag("verbose"))
    return print_rows(ctx, a.get("format"),
                      "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                      {"Type", "TotalCount", "Active", "Size", "Reclaimable"},
                      {{"Type", "TYPE"},
                       {"TotalCount", "TOTAL"},
                       {"Active", "ACTIVE"},
                       {"Size", "SIZE"},
                       {"Reclaimable", "RECLAIMABLE"}},
                      rows);
  ctx.out << "Images space usage:\n\n";
  std::vector<std::string> lines{
      "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS"};
  for (auto& img : images) {
    auto tags = strings_of(img, "RepoTags");
    std::erase(tags, "<none>:<none>");
    auto [repo, tag] = tags.empty() ? std::pair<std::string, std::string>{"<none>", "<none>"}
                                    : split_repo_tag(familiar(tags.front()), ':');
    std::int64_t size = int_of(img, "Size"),
                 shared = std::max<std::int64_t>(0, int_of(img, "SharedSize"));
    lines.push_back(repo + "\t" + tag + "\t" + short_id(img.value("Id", "")) + "\t" +
                    time_ago(int_of(img, "Created"), ctx.now) + "\t" +
                    human_size(static_cast<double>(size)) + "\t" +
                    human_size(static_cast<double>(shared)) + "\t" +
                    human_size(static_cast<double>(size - shared)) + "\t" +
                    std::to_string(std::max<std::int64_t>(0, int_of(img, "Containers"))));
  }
  ctx.out << align_table(lines)
          << "\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   "
             "LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n\nLocal Volumes space usage:\n\n"
             "VOLUME NAME   LINKS     SIZE\n\nBuild cache usage: 0B\n"
          << std::flush;
  return kExitOk;
}

const OptionSpec kFormat{"format", 0, true, "string",
                         "Format output: table, json, or a template such as "
                         "'table {{.ID}}\\t{{.Size}}' ({{.Field}} and {{json .}} only)"};

}  // namespace

std::vector<Command> image_commands() {
  return {
      Command{.name = "images",
              .aliases = {"ls", "image ls"},
              .usage = "imagectl images [OPTIONS] [REPOSITORY[:TAG]]",
              .summary = "List images",
              .examples = "  imagectl images\n  imagectl images busybox\n  imagectl images -q\n"
                          "  imagectl images --filter dangling=true\n"
                          "  imagectl images --format '{{.Repository}}:{{.Tag}}'\n"
                          "  imagectl images --format 'table {{.ID}}\\t{{.Size}}'\n"
                          "  imagectl images --format json\n"
                          "Fields: .Repository .Tag .Digest .ID .CreatedSince .CreatedAt .Size "
                          ".SharedSize .UniqueSize .VirtualSize .Containers\n",
              .options = {{"all", 'a', false, "",
                           "Show all images (default hides intermediate images)"},
                          {"digests", 0, false, "", "Show digests"},
                          {"filter", 'f', true, "filter",
                           "Filter output based on conditions provided (dangling=, label=, "
                           "before=, since=, reference=, until=)"},
                          kFormat,
                          {"no-trunc", 0, false, "", "Don't truncate output"},
                          {"quiet", 'q', false, "", "Only show image IDs"}},
              .max_args = 1,
              .run = cmd_images},
      Command{
          .name = "inspect",
          .usage = "imagectl inspect [OPTIONS] IMAGE [IMAGE...]",
          .summary = "Display detailed information on one or more images",
          .examples =
              "  imagectl inspect busybox:musl\n  imagectl inspect -f '{{.Id}}' busybox:musl\n"
              "  imagectl inspect -f '{{json .RootFS}}' busybox:musl\n",
          .options =
              {{"format", 'f', true, "string",
                "Format output using a template ({{.A.B}}, {{json .X}}; not full Go templates)"}},
          .min_args = 1,
          .run = cmd_inspect},
      Command{.name = "history",
              .usage = "imagectl history [OPTIONS] IMAGE",
              .summary = "Show the history of an image",
              .examples =
                  "  imagectl history busybox:musl\n  imagectl history --no-trunc -q busybox:musl\n"
                  "  imagectl history --format '{{.ID}} {{.CreatedBy}}' busybox:musl\n"
                  "Fields: .ID .CreatedSince .CreatedAt .CreatedBy .Size .Comment\n",
              .options = {kFormat,
                          {"no-trunc", 0, false, "", "Don't truncate output"},
                          {"quiet", 'q', false, "", "Only show image IDs"}},
              .min_args = 1,
              .max_args = 1,
              .run = cmd_history},
      Command{.name = "tag",
              .usage = "imagectl tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
              .summary = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
              .examples = "  imagectl tag busybox:musl busybox:media\n"
                          "  imagectl tag busybox:musl 127.0.0.1:5000/test/busybox:media\n",
              .min_args = 2,
              .max_args = 2,
              .run = cmd_tag},
      Command{.name = "rmi",
              .aliases = {"image rm"},
              .usage = "imagectl rmi [OPTIONS] IMAGE [IMAGE...]",
              .summary = "Remove one or more images",
              .examples = "  imagectl rmi busybox:media\n  imagectl rmi -f 77520b0abf60\n",
              .options = {{"force", 'f', false, "", "Force removal of the image"},
                          {"no-prune", 0, false, "", "Do not delete untagged parents"}},
              .min_args = 1,
              .run = cmd_rmi},
      Command{
          .name = "prune",
          .aliases = {"image prune"},
          .usage = "imagectl prune [OPTIONS]",
          .summary = "Remove unused images",
          .examples = "  imagectl prune -f\n  imagectl prune -a -f --filter until=24h\n",
          .options = {{"all", 'a', false, "", "Remove all unused images, not just dangling ones"},
                      {"filter", 0, true, "filter",
                       "Provide filter values (e.g. until=<timestamp>, label=<key>=<value>)"},
                      {"force", 'f', false, "", "Do not prompt for confirmation"}},
          .max_args = 0,
          .run = cmd_prune},
      Command{.name = "df",
              .aliases = {"system df"},
              .usage = "imagectl df [OPTIONS]",
              .summary = "Show disk usage",
              .examples = "  imagectl df\n  imagectl df -v\n  imagectl df --format json\n",
              .options = {kFormat,
                          {"verbose", 'v', false, "", "Show detailed information on space usage"}},
              .max_args = 0,
              .run = cmd_df},
  };
}

}  // namespace imaged::client
