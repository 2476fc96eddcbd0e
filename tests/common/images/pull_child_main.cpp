// imaged_pull_child ROOT REFERENCE: pulls REFERENCE into the store at ROOT and exits (0 on
// success). A separate process so that tests can SIGKILL a pull midway, as a daemon crash would.
#include <cstdio>
#include <string>

#include "common/content/local_store.h"
#include "common/images/ingest_reader.h"
#include "common/images/puller.h"
#include "common/metadata/metadata_store.h"
#include "common/reference.h"
#include "common/remotes/registry_client.h"

int main(int argc, char** argv) {
  using namespace imaged;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s ROOT REFERENCE\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  auto content = content::LocalStore::open(root);
  auto metadata = metadata::MetadataStore::open(root / "meta.db");
  auto ref = Reference::parse(argv[2]);
  if (!content || !metadata || !ref) {
    std::fprintf(stderr, "set-up failed\n");
    return 2;
  }
  remotes::NoCredentials credentials;
  remotes::RegistryClient client({}, credentials);
  images::PullerOptions options;
  options.open_partial = [&](const std::string& r) { return images::open_ingest_data(root, r); };
  images::Puller puller(**content, **metadata, client, options);
  auto st = puller.pull(images::PullRequest{.ref = *ref}, [](const images::Progress& p) {
    std::printf("%s: %s\n", p.id.c_str(), p.status.c_str());
    std::fflush(stdout);
    return true;
  });
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  return 0;
}
