// Crash safety of LocalStore: a forked child writes and commits random blobs until SIGKILL
// lands at a random moment; after every kill the parent checks the store.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "common/content/local_store.h"
#include "tests/common/content/store_conformance.h"
#include "tests/support/temp_dir.h"

namespace {

using imaged::Digest;
using imaged::Errc;
using imaged::content::LocalStore;
namespace fs = std::filesystem;

constexpr size_t kMaxBlob = 1 << 20;
const std::string kCommitLine = "commit\n";

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// A ref names its blob: size and bytes are derived from it, so whoever resumes an ingest (the
// parent or a later child) knows what the rest of it must be.
struct Spec {
  std::string bytes;
  Digest digest;
};
Spec spec_of(const std::string& ref) {
  std::mt19937_64 rng(fnv1a(ref));
  // Half small (more commits per second, so more kills land in one), half up to 1 MiB.
  const size_t size = rng() % 2 ? rng() % (64 * 1024) : rng() % (kMaxBlob + 1);
  std::string bytes = imaged::content::conformance::random_bytes(rng, size);
  Digest digest = Digest::of(bytes);
  return Spec{std::move(bytes), std::move(digest)};
}

// The child: only store calls, never returns. It reports on `report_fd`, one line each (shorter
// than PIPE_BUF, so never torn): "commit" when a commit starts, the digest when one succeeded.
[[noreturn]] void child_main(const fs::path& root, int round, int report_fd) {
  ::alarm(30);  // never outlive a parent that died
  // Odd rounds skip fsync: a commit then takes well under a millisecond instead of ~10 ms of
  // fsync, so kills land evenly over its steps. SIGKILL (unlike power loss) must be survived
  // either way.
  imaged::content::LocalStoreOptions options;
  options.sync = round % 2 == 0;
  auto store = LocalStore::open(root, options);
  if (!store) ::_exit(10);
  std::mt19937_64 rng(0xc0ffee + round);
  auto say = [&](const std::string& line) {
    if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      ::_exit(11);
  };
  auto report = [&](const Digest& d) { say(d.str() + "\n"); };
  // Finish what earlier rounds left, checking that the resumed prefix is right.
  auto ingests = (*store)->ingests();
  if (!ingests) ::_exit(12);
  for (const auto& status : *ingests) {
    const Spec spec = spec_of(status.ref);
    auto writer = (*store)->writer(status.ref, static_cast<int64_t>(spec.bytes.size()));
    if (!writer) ::_exit(13);
    const auto offset = static_cast<size_t>((*writer)->offset());
    if (offset > spec.bytes.size() ||
        (*writer)->digest_so_far() != Digest::of(std::string_view(spec.bytes).substr(0, offset)))
      ::_exit(14);
    if (!(*writer)->write(std::string_view(spec.bytes).substr(offset))) ::_exit(15);
    say(kCommitLine);
    auto committed = (*writer)->commit(static_cast<int64_t>(spec.bytes.size()), spec.digest);
    if (!committed && committed.error().code != Errc::AlreadyExists) ::_exit(16);
    report(spec.digest);
  }
  for (int k = 0;; ++k) {
    const std::string ref = "crash-" + std::to_string(round) + "-" + std::to_string(k);
    const Spec spec = spec_of(ref);
    const auto size = static_cast<int64_t>(spec.bytes.size());
    auto writer = (*store)->writer(ref, size);
    if (!writer || (*writer)->offset() != 0) ::_exit(17);
    // A quarter of the ingests stop part way and stay behind for a resume.
    const bool partial = rng() % 4 == 0;
    const size_t stop = partial ? rng() % (spec.bytes.size() + 1) : spec.bytes.size();
    for (size_t done = 0; done < stop;) {
      const size_t n = std::min<size_t>(stop - done, 1 + rng() % (256 * 1024));
      if (!(*writer)->write(std::string_view(spec.bytes).substr(done, n))) ::_exit(18);
      done += n;
    }
    if (partial) {
      (*writer)->close();
      continue;
    }
    say(kCommitLine);
    auto committed = (*writer)->commit(size, spec.digest);
    if (!committed && committed.error().code != Errc::AlreadyExists) ::_exit(19);
    report(spec.digest);
  }
}

// Reads the child's report lines: acknowledged digests go to `acknowledged`; returns how many
// commits started. With `until_commits` > 0, stops once that many started (or after 5 s);
// otherwise reads to EOF.
int read_reports(int fd, std::string& pending, std::set<std::string>& acknowledged,
                 int until_commits) {
  int commits = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (line + "\n" == kCommitLine) {
        ++commits;
      } else {
        acknowledged.insert(line);
      }
    }
    if (until_commits > 0 && commits >= until_commits) return commits;
    if (until_commits > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      struct pollfd pfd {
        fd, POLLIN, 0
      };
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return commits;
    }
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return commits;
    pending.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

TEST_CASE("local store: SIGKILL at random moments leaves a consistent store", "[content][crash]") {
  imaged::testing::TempDir dir("content-crash");
  const fs::path root = dir / "store";
  std::mt19937_64 rng(20240611);
  std::set<std::string> acknowledged;  // commits the child saw succeed: must be there
  constexpr int kKills = 80;

  for (int round = 0; round < kKills; ++round) {
    INFO("round " << round);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_main(root, round, fds[1]);
    }
    ::close(fds[1]);
    // The kill moment is the point of the test, not a wait for something. Even rounds kill
    // anywhere (before the store is open, mid-write, mid-commit); odd rounds aim at commits,
    // the critical part: shortly after the child says one starts.
    std::string pending;
    if (round % 2 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
    } else {
      read_reports(fds[0], pending, acknowledged, 1 + static_cast<int>(rng() % 3));
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 1500));
    }
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    INFO("child exit status " << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1));
    REQUIRE(WIFSIGNALED(wstatus));
    REQUIRE(WTERMSIG(wstatus) == SIGKILL);
    read_reports(fds[0], pending, acknowledged, 0);
    ::close(fds[0]);

    // 1. Opening never fails.
    auto opened = LocalStore::open(root);
    REQUIRE(opened);
    auto& store = **opened;

    // 2. Every blob hashes to its name and is read-only; every acknowledged commit is there.
    std::vector<imaged::content::Info> blobs;
    IMAGED_REQUIRE_OK(
        store.walk([&](const imaged::content::Info& info) { blobs.push_back(info); }));
    for (const auto& info : blobs) {
      INFO(info.digest.str());
      const std::string bytes =
          IMAGED_REQUIRE_VALUE(imaged::content::read_blob(store, info.digest, kMaxBlob));
      CHECK(static_cast<int64_t>(bytes.size()) == info.size);
      struct stat st {};
      REQUIRE(::stat(store.path_of(info.digest).c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0444);
    }
    for (const auto& digest : acknowledged) {
      INFO("acknowledged " << digest);
      CHECK(store.info(IMAGED_REQUIRE_VALUE(Digest::parse(digest))));
    }

    // 3. Every ingest is resumable (a correct prefix, no lock left by the dead child) or
    // removable. Finish a third, abort a third, leave a third for the next child.
    auto ingests = IMAGED_REQUIRE_VALUE(store.ingests());
    for (size_t i = 0; i < ingests.size(); ++i) {
      const auto& status = ingests[i];
      INFO("ingest " << status.ref);
      const Spec spec = spec_of(status.ref);
      auto writer =
          IMAGED_REQUIRE_VALUE(store.writer(status.ref, static_cast<int64_t>(spec.bytes.size())));
      const auto offset = static_cast<size_t>(writer->offset());
      REQUIRE(offset <= spec.bytes.size());
      CHECK(writer->digest_so_far() == Digest::of(std::string_view(spec.bytes).substr(0, offset)));
      switch (i % 3) {
        case 0: {
          IMAGED_REQUIRE_OK(writer->write(std::string_view(spec.bytes).substr(offset)));
          auto committed = writer->commit(static_cast<int64_t>(spec.bytes.size()), spec.digest);
          if (!committed) REQUIRE(committed.error().code == Errc::AlreadyExists);
          acknowledged.insert(spec.digest.str());
          break;
        }
        case 1:
          writer->close();
          IMAGED_REQUIRE_OK(store.abort(status.ref));
          break;
        default:
          writer->close();
      }
    }
    // Now and then, sweep everything: no ingest (or temporary directory) may resist.
    if (round % 10 == 9) {
      IMAGED_REQUIRE_OK(store.remove_stale_ingests(std::chrono::seconds(0)));
      CHECK(fs::is_empty(root / "ingest"));
    }

    // 4. Keep the store small so that checking stays fast: drop all but a few blobs.
    blobs.clear();
    IMAGED_REQUIRE_OK(
        store.walk([&](const imaged::content::Info& info) { blobs.push_back(info); }));
    for (size_t i = 6; i < blobs.size(); ++i) {
      IMAGED_REQUIRE_OK(store.remove(blobs[i].digest));
      acknowledged.erase(blobs[i].digest.str());
    }
  }
}
