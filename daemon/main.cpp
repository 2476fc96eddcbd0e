// imaged: the composition root. Reads the configuration, prepares the data root, builds the
// services and the route table, opens the sockets, serves until SIGTERM/SIGINT, stops gracefully.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "api/auth_route.h"
#include "api/container_routes.h"
#include "api/distribution_route.h"
#include "api/host_info.h"
#include "api/image_routes.h"
#include "api/load_route.h"
#include "api/pull_route.h"
#include "api/push_route.h"
#include "api/router.h"
#include "api/save_route.h"
#include "api/search_route.h"
#include "api/server.h"
#include "api/system_routes.h"
#include "api/unmanaged_routes.h"
#include "common/containers/container_service.h"
#include "common/content/local_store.h"
#include "common/images/event_log.h"
#include "common/images/image_archive_writer.h"
#include "common/images/image_importer.h"
#include "common/images/image_loader.h"
#include "common/images/image_service.h"
#include "common/images/ingest_reader.h"
#include "common/images/pusher.h"
#include "common/images/store_check.h"
#include "common/metadata/metadata_store.h"
#include "common/oci.h"
#include "common/remotes/registry_client.h"
#include "daemon/build_info.h"
#include "daemon/config.h"
#include "daemon/data_root.h"
#include "daemon/listeners.h"
#include "daemon/logging.h"
#include "daemon/systemd.h"
#include "daemon/test_routes.h"

namespace {

using namespace imaged;

// How long in-flight requests may run after SIGTERM before their connections are cut
// (dockerd's default --shutdown-timeout).
constexpr std::chrono::seconds kShutdownGrace{15};

int run(const daemon::Config& config, const daemon::Environment& env) {
  // 1. Logging.
  auto log = daemon::make_logger(config.log_level, daemon::stderr_is_journal());

  // 2. The data root.
  if (auto st = daemon::prepare_data_root(config.data_root); !st) {
    log->critical("{}", st.error().message);
    return 1;
  }
  auto engine_id = daemon::load_engine_id(config.data_root);
  if (!engine_id) {
    log->critical("{}", engine_id.error().message);
    return 1;
  }

  // 3. Services: the image store (content blobs + meta.db under the data root), the registry
  //    client, the event log and the image service; /info counts images through it.
  auto content = content::LocalStore::open(config.data_root);
  if (!content) {
    log->critical("opening the content store: {}", content.error().message);
    return 1;
  }
  auto metadata = metadata::MetadataStore::open(config.data_root / metadata::kMetaDbName);
  if (!metadata) {
    log->critical("opening {}: {}", metadata::kMetaDbName, metadata.error().message);
    return 1;
  }
  if (const auto& aside = (*metadata)->set_aside()) {
    log->warn(
        "{} could not be read and had never been written (a power loss soon after it was "
        "created); it was moved to {} and a new one created",
        metadata::kMetaDbName, aside->string());
  }
  remotes::NoCredentials no_credentials;  // credentials come per request (X-Registry-Auth)
  remotes::RegistryClientOptions registry_options;
  registry_options.hosts.registry_mirrors = config.registry_mirrors;
  registry_options.hosts.insecure_registries = config.insecure_registries;
  remotes::RegistryClient registry(registry_options, no_credentials, log);
  images::EventLog events(**metadata);
  images::ImageServiceOptions image_options;
  image_options.platform = oci::host_platform();
  image_options.max_concurrent_downloads = config.max_concurrent_downloads;
  image_options.open_partial = [root = (*content)->root()](const std::string& ref) {
    return images::open_ingest_data(root, ref);  // an interrupted pull resumes from its ingest
  };
  images::ImageService images(**content, **metadata, registry, events, image_options);
  // The store is checked before anything is served: a store that fails is refused (DataLoss),
  // stale partial downloads and old unreferenced blobs are swept.
  if (auto checked = images::check_store(**content, **metadata, images.sweeper()); !checked) {
    log->critical("{}", checked.error().message);
    return 1;
  } else if (checked->stale_ingests_removed || checked->orphan_blobs_removed) {
    log->info("store check: removed {} stale partial download(s) and {} unreferenced blob(s)",
              checked->stale_ingests_removed, checked->orphan_blobs_removed);
  }
  images::Pusher pusher(**content, **content, **metadata, registry, events);
  images::ImageArchiveWriter archive_writer(**content, **metadata, events);
  images::ImageLoader loader(**content, **metadata, events, &images.sweeper());
  // Containers of `docker run`: an overlay of the image's snapshot (snapshots/) and their own
  // directory (containers/).
  containers::ContainerService containers(
      images, **content, events, config.data_root / "containers", config.data_root / "snapshots");
  images.set_image_users(&containers);
  auto image_info = api::make_image_info_source(images);
  api::SystemInfoSource* info_source = image_info.get();

  // 4. Sockets (before routes: /info reports unencrypted TCP listeners as warnings).
  auto activated = daemon::take_activated_sockets();
  if (!activated) {
    log->critical("{}", activated.error().message);
    return 1;
  }
  auto listeners = daemon::open_listeners(config, std::move(*activated), *log);
  if (!listeners) {
    log->critical("{}", listeners.error().message);
    return 1;
  }

  // 5. Routes.
  const auto& build = daemon::build_info();
  api::EngineInfo engine{.version = build.version,
                         .git_commit = build.git_commit,
                         .build_time = build.build_time,
                         .compiler = build.compiler,
                         .id = *engine_id,
                         .data_root = config.data_root.string(),
                         .registry_mirrors = config.registry_mirrors,
                         .insecure_registries = config.insecure_registries,
                         .debug = config.log_level == daemon::LogLevel::Debug};
  for (const auto& l : *listeners)
    if (l.tcp)
      engine.warnings.push_back("WARNING: API is accessible on " + l.description +
                                " without encryption.");
  api::Router router;
  api::register_system_routes(router, engine, api::probe_host(), info_source);
  api::register_image_routes(router, images, events);
  images::ImageImporter importer(**content, **metadata, events, &images.sweeper(),
                                 {.docker_version = build.version});
  api::register_pull_routes(
      router,
      [&images](const images::PullRequest& r, const images::ProgressSink& p) {
        return images.pull(r, p);
      },
      [&importer](const images::ImportRequest& r, const images::ByteSource& source) {
        return importer.import(r, source);
      });
  api::register_push_routes(router,
                            [&pusher](const images::PushRequest& r, const images::ProgressSink& p) {
                              return pusher.push(r, p);
                            });
  api::register_auth_routes(router, api::login_with(registry));
  api::register_search_routes(router, api::search_backend(registry));
  api::register_distribution_routes(router, api::distribution_inspect_with(registry));
  api::register_save_routes(router, archive_writer);
  api::register_load_routes(router, loader);
  api::register_container_routes(router, containers, images);
  api::register_unmanaged_routes(router);
  if (const char* t = std::getenv("IMAGED_TEST_ROUTES"); t && std::string(t) == "1")
    daemon::register_test_routes(router);

  // 6. Serve.
  api::ServerOptions options;
  options.response_headers = api::engine_response_headers(build.version);
  options.logger = log;
  api::Server server(router, options);
  std::string sockets;
  std::vector<std::filesystem::path> owned_paths;
  for (auto& l : *listeners) {
    sockets += (sockets.empty() ? "" : ", ") + l.description;
    if (!l.unix_path.empty()) owned_paths.push_back(l.unix_path);
    if (auto st = server.add_listener(std::move(l.fd)); !st) {
      log->critical("{}: {}", l.description, st.error().message);
      return 1;
    }
  }
  server.start();
  log->info("imaged {} (API {}, min {}) serving on {}; data root {}", build.version,
            api::kMaxApiVersionText, api::kMinApiVersionText, sockets, config.data_root.string());
  daemon::notify_ready("serving on " + sockets);
  (void)env;

  // 7. Wait for SIGTERM/SIGINT (blocked in every thread; received here only).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int sig = 0;
  sigwait(&signals, &sig);

  // 8. Graceful stop.
  daemon::notify_stopping();
  log->info("received {}, shutting down (in-flight requests have {} s)",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", kShutdownGrace.count());
  events.shutdown();  // end /events streams now rather than at the grace deadline
  server.stop(kShutdownGrace);
  for (const auto& p : owned_paths) ::unlink(p.c_str());
  log->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread exists, so that every thread inherits the mask and
  // only sigwait() in run() receives them. Broken connections are errors, not signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto env = imaged::daemon::current_environment();
  std::vector<std::string> args(argv + 1, argv + argc);
  auto config = imaged::daemon::parse_config(args, env, imaged::daemon::real_file_reader());
  if (!config) {
    std::fprintf(stderr, "imaged: %s\n", config.error().message.c_str());
    return 1;
  }
  switch (config->action) {
    case imaged::daemon::Config::Action::PrintHelp:
      std::fputs(imaged::daemon::usage_text().c_str(), stdout);
      return 0;
    case imaged::daemon::Config::Action::PrintVersion:
      std::fputs(imaged::daemon::version_text().c_str(), stdout);
      return 0;
    case imaged::daemon::Config::Action::Run:
      break;
  }
  return run(*config, env);
}
