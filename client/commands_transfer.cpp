// Transfer commands: pull, push (progress streams), save, load.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "client/auth_config.h"
#include "client/cli.h"
#include "client/progress.h"
#include "common/reference.h"

namespace imaged::client {

namespace {

const OptionSpec kProgress{"progress", 0, true, "mode",
                           "Progress output: auto, tty, plain, json or quiet (default auto)"};

// Runs a progress-stream request; returns the renderer's verdict as an exit code.
int stream_progress(Context& ctx, HttpClient& http, HttpRequest req, ProgressMode mode,
                    ProgressRenderer** out_renderer = nullptr) {
  ProgressRenderer renderer(ctx.out, mode);
  if (out_renderer) *out_renderer = nullptr;
  req.on_data = [&](std::string_view bytes) {
    renderer.feed(bytes);
    return true;
  };
  auto r = http.call(req);
  renderer.finish();
  if (!r) return ctx.fail(r.error().message);
  if (renderer.error()) return ctx.fail(*renderer.error());
  return kExitOk;
}

Result<ProgressMode> mode_for(Context& ctx, const ParsedArgs& a) {
  std::string name = a.get("progress", "auto");
  if (a.flag("quiet")) name = "quiet";
  return parse_progress_mode(name, ctx.stdout_tty);
}

int cmd_pull(Context& ctx, const ParsedArgs& a) {
  auto ref = Reference::parse(a.positionals[0]);
  if (!ref)
    return ctx.fail("invalid reference \"" + a.positionals[0] + "\": " + ref.error().message);
  auto mode = mode_for(ctx, a);
  if (!mode) return ctx.usage(mode.error().message);
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  std::string tag = ref->digest() ? ref->digest()->str() : ref->tag().value_or("latest");
  HttpRequest req{.method = "POST",
                  .path = "/images/create",
                  .query = {{"fromImage", ref->name()}, {"tag", tag}},
                  .headers = {"X-Registry-Auth: " + registry_auth_header(ref->domain())}};
  if (a.has("platform")) req.query.emplace_back("platform", a.get("platform"));
  int rc = stream_progress(ctx, **http, req, *mode);
  if (rc != kExitOk) return rc;
  if (*mode != ProgressMode::Json) {
    std::string full = ref->name() + (ref->digest() ? "@" + tag : ":" + tag);
    ctx.out << full << "\n" << std::flush;
  }
  return kExitOk;
}

int cmd_push(Context& ctx, const ParsedArgs& a) {
  auto ref = Reference::parse(a.positionals[0]);
  if (!ref)
    return ctx.fail("invalid reference \"" + a.positionals[0] + "\": " + ref.error().message);
  auto mode = mode_for(ctx, a);
  if (!mode) return ctx.usage(mode.error().message);
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  HttpRequest req{.method = "POST",
                  .path = "/images/" + ref->name() + "/push",
                  .query = {{"tag", ref->tag().value_or(a.flag("all-tags") ? "" : "latest")}},
                  .headers = {"X-Registry-Auth: " + registry_auth_header(ref->domain())}};
  return stream_progress(ctx, **http, req, *mode);
}

int cmd_save(Context& ctx, const ParsedArgs& a) {
  std::string output = a.get("output");
  if (output.empty() && ctx.stdout_tty)
    return ctx.usage("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  HttpRequest req{.path = "/images/get"};
  for (auto& n : a.positionals) req.query.emplace_back("names", n);
  std::FILE* f = stdout;
  std::string tmp;
  if (!output.empty()) {
    tmp = output + ".imagectl-tmp";
    f = std::fopen(tmp.c_str(), "wb");
    if (!f) return ctx.fail("cannot create " + output + ": " + std::strerror(errno));
  }
  ctx.out << std::flush;
  req.on_data = [&](std::string_view bytes) {
    return std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  };
  auto r = (*http)->call(req);
  std::fflush(f);
  if (f != stdout) std::fclose(f);
  if (!r) {
    if (!tmp.empty()) std::remove(tmp.c_str());
    return ctx.fail(r.error().message);
  }
  if (!tmp.empty() && std::rename(tmp.c_str(), output.c_str()) != 0)
    return ctx.fail("cannot write " + output + ": " + std::strerror(errno));
  return kExitOk;
}

int cmd_load(Context& ctx, const ParsedArgs& a) {
  std::string input = a.get("input");
  if (input.empty() && ctx.stdin_tty)
    return ctx.usage("requested load from stdin, but stdin is empty (use -i FILE or redirect)");
  std::FILE* f = stdin;
  if (!input.empty()) {
    f = std::fopen(input.c_str(), "rb");
    if (!f) return ctx.fail("cannot open " + input + ": " + std::strerror(errno));
  }
  auto http = ctx.http();
  if (!http) {
    if (f != stdin) std::fclose(f);
    return ctx.fail(http.error().message);
  }
  bool quiet = a.flag("quiet");
  auto mode = parse_progress_mode(quiet ? "quiet" : a.get("progress", "auto"), ctx.stdout_tty);
  if (!mode) return ctx.usage(mode.error().message);
  HttpRequest req{.method = "POST",
                  .path = "/images/load",
                  .query = {{"quiet", *mode == ProgressMode::Tty ? "0" : "1"}},
                  .headers = {"Content-Type: application/x-tar"},
                  .upload = f};
  ProgressRenderer renderer(ctx.out, *mode == ProgressMode::Json  ? ProgressMode::Json
                                     : *mode == ProgressMode::Tty ? ProgressMode::Tty
                                                                  : ProgressMode::Quiet);
  req.on_data = [&](std::string_view bytes) {
    renderer.feed(bytes);
    return true;
  };
  auto r = (*http)->call(req);
  if (f != stdin) std::fclose(f);
  renderer.finish();
  if (!r) return ctx.fail(r.error().message);
  if (renderer.error()) return ctx.fail(*renderer.error());
  if (*mode != ProgressMode::Json && *mode != ProgressMode::Tty)
    for (auto& s : renderer.streams()) ctx.out << s << (s.ends_with("\n") ? "" : "\n");
  ctx.out << std::flush;
  return kExitOk;
}

}  // namespace

std::vector<Command> transfer_commands() {
  return {
      Command{
          .name = "pull",
          .usage = "imagectl pull [OPTIONS] NAME[:TAG|@DIGEST]",
          .summary = "Download an image from a registry",
          .examples = "  imagectl pull busybox:musl\n  imagectl pull -q busybox:musl\n"
                      "  imagectl pull --platform linux/arm64 busybox\n"
                      "  imagectl pull --progress=plain busybox:musl   # CI logs: a few lines\n",
          .options = {{"platform", 0, true, "string",
                       "Set platform if server is multi-platform capable"},
                      kProgress,
                      {"quiet", 'q', false, "", "Suppress verbose output (prints the reference)"}},
          .min_args = 1,
          .max_args = 1,
          .run = cmd_pull},
      Command{.name = "push",
              .usage = "imagectl push [OPTIONS] NAME[:TAG]",
              .summary = "Upload an image to a registry",
              .examples = "  imagectl push 127.0.0.1:5000/test/busybox:media\n",
              .options = {{"all-tags", 'a', false, "", "Push all tags of the repository"},
                          kProgress,
                          {"quiet", 'q', false, "", "Suppress verbose output"}},
              .min_args = 1,
              .max_args = 1,
              .run = cmd_push},
      Command{
          .name = "save",
          .usage = "imagectl save [OPTIONS] IMAGE [IMAGE...]",
          .summary = "Save one or more images to a tar archive (streamed to STDOUT by default)",
          .examples =
              "  imagectl save -o busybox.tar busybox:musl\n  imagectl save busybox:musl > b.tar\n",
          .options = {{"output", 'o', true, "file", "Write to a file, instead of STDOUT"}},
          .min_args = 1,
          .run = cmd_save},
      Command{
          .name = "load",
          .usage = "imagectl load [OPTIONS]",
          .summary = "Load an image from a tar archive or STDIN",
          .examples = "  imagectl load -i busybox.tar\n  imagectl load < busybox.tar\n",
          .options = {{"input", 'i', true, "file", "Read from tar archive file, instead of STDIN"},
                      kProgress,
                      {"quiet", 'q', false, "", "Suppress the load output"}},
          .max_args = 0,
          .run = cmd_load},
  };
}

}  // namespace imaged::client
