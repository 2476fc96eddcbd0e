#include "tests/common/content/store_conformance.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace imaged::content::conformance {

namespace {

using namespace std::chrono_literals;

constexpr size_t kMiB = 1 << 20;

struct Blob {
  std::string bytes;
  Digest digest;
};

Blob make_blob(std::mt19937_64& rng, size_t n) {
  std::string bytes = random_bytes(rng, n);
  Digest digest = Digest::of(bytes);
  return Blob{std::move(bytes), std::move(digest)};
}

std::string read_all(Provider& provider, const Digest& digest, size_t chunk = 64 * 1024) {
  auto reader = IMAGED_REQUIRE_VALUE(provider.open(digest));
  std::string out(static_cast<size_t>(reader->size()), '\0');
  size_t done = 0;
  while (done < out.size()) {
    auto span =
        std::as_writable_bytes(std::span(out.data() + done, std::min(chunk, out.size() - done)));
    const size_t n = IMAGED_REQUIRE_VALUE(reader->read_at(span, static_cast<int64_t>(done)));
    REQUIRE(n > 0);
    done += n;
  }
  return out;
}

void commit_blob(Store& store, const std::string& ref, const Blob& blob, std::mt19937_64& rng) {
  auto writer = IMAGED_REQUIRE_VALUE(store.writer(ref, static_cast<int64_t>(blob.bytes.size())));
  write_in_chunks(*writer, blob.bytes, rng, 256 * 1024);
  IMAGED_REQUIRE_OK(writer->commit(static_cast<int64_t>(blob.bytes.size()), blob.digest));
}

std::set<std::string> walked(Store& store) {
  std::set<std::string> out;
  IMAGED_REQUIRE_OK(store.walk([&](const Info& info) { out.insert(info.digest.str()); }));
  return out;
}

std::map<std::string, IngestStatus> ingests_by_ref(Store& store) {
  std::map<std::string, IngestStatus> out;
  for (auto& status : IMAGED_REQUIRE_VALUE(store.ingests())) out[status.ref] = status;
  return out;
}

struct Fixture {
  imaged::testing::TempDir dir{"content-conformance"};
  std::filesystem::path root = dir.path() / "store";
  std::unique_ptr<Store> store;
  std::mt19937_64 rng{0x5eed};
  explicit Fixture(const StoreFactory& factory) : store(factory(root)) { REQUIRE(store); }
};

}  // namespace

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  const uint64_t tail = rng();
  std::memcpy(out.data() + i, &tail, n - i);
  return out;
}

void write_in_chunks(Writer& writer, std::string_view bytes, std::mt19937_64& rng,
                     size_t max_chunk) {
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t n = std::min(bytes.size() - done, 1 + rng() % max_chunk);
    IMAGED_REQUIRE_OK(writer.write(bytes.substr(done, n)));
    done += n;
  }
}

void check_write_commit_read(const StoreFactory& factory) {
  Fixture f(factory);
  // Sizes around the writers' buffering: tiny, odd, and several MiB in mixed chunks.
  for (size_t size : {size_t{1}, size_t{4097}, 3 * kMiB + 5}) {
    const Blob blob = make_blob(f.rng, size);
    auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("blob-" + std::to_string(size), -1));
    write_in_chunks(*writer, std::string_view(blob.bytes).substr(0, size / 2), f.rng, 1000);
    IMAGED_REQUIRE_OK(writer->write(std::string_view(blob.bytes).substr(size / 2)));
    CHECK(writer->offset() == static_cast<int64_t>(size));
    CHECK(writer->digest_so_far() == blob.digest);
    IMAGED_REQUIRE_OK(writer->commit(static_cast<int64_t>(size), blob.digest));
    CHECK(read_all(*f.store, blob.digest) == blob.bytes);
    CHECK(read_all(*f.store, blob.digest, 7) == blob.bytes);
  }
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());
}

void check_info_of_committed_blob(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 1000);
  const auto before = Clock::now();
  commit_blob(*f.store, "info", blob, f.rng);
  const auto after = Clock::now();
  const Info info = IMAGED_REQUIRE_VALUE(f.store->info(blob.digest));
  CHECK(info.digest == blob.digest);
  CHECK(info.size == 1000);
  // Filesystems round timestamps; allow a second either way.
  CHECK(info.committed_at >= before - 1s);
  CHECK(info.committed_at <= after + 1s);
}

void check_missing_blob_is_not_found(const StoreFactory& factory) {
  Fixture f(factory);
  const Digest missing = Digest::of("never written");
  IMAGED_REQUIRE_ERRC(f.store->info(missing), Errc::NotFound);
  IMAGED_REQUIRE_ERRC(f.store->open(missing), Errc::NotFound);
}

void check_read_at_bounds(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 100);
  commit_blob(*f.store, "bounds", blob, f.rng);
  auto reader = IMAGED_REQUIRE_VALUE(f.store->open(blob.digest));
  CHECK(reader->size() == 100);
  std::vector<std::byte> buf(64);
  CHECK(IMAGED_REQUIRE_VALUE(reader->read_at(buf, 90)) == 10);
  CHECK(std::memcmp(buf.data(), blob.bytes.data() + 90, 10) == 0);
  CHECK(IMAGED_REQUIRE_VALUE(reader->read_at(buf, 100)) == 0);
  CHECK(IMAGED_REQUIRE_VALUE(reader->read_at(buf, 5000)) == 0);
  IMAGED_REQUIRE_ERRC(reader->read_at(buf, -1), Errc::InvalidArgument);
}

void check_empty_blob(const StoreFactory& factory) {
  Fixture f(factory);
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("empty", 0));
  CHECK(writer->offset() == 0);
  CHECK(writer->digest_so_far() == Digest::of(""));
  IMAGED_REQUIRE_OK(writer->commit(0, Digest::of("")));
  CHECK(IMAGED_REQUIRE_VALUE(f.store->info(Digest::of(""))).size == 0);
  CHECK(read_all(*f.store, Digest::of("")).empty());
}

void check_walk_lists_committed(const StoreFactory& factory) {
  Fixture f(factory);
  CHECK(walked(*f.store).empty());
  std::set<std::string> expected;
  for (int i = 0; i < 5; ++i) {
    const Blob blob = make_blob(f.rng, 10 + i);
    commit_blob(*f.store, "walk-" + std::to_string(i), blob, f.rng);
    expected.insert(blob.digest.str());
  }
  // A partial ingest is not a blob.
  auto partial = IMAGED_REQUIRE_VALUE(f.store->writer("walk-partial", -1));
  IMAGED_REQUIRE_OK(partial->write("half"));
  partial->close();
  std::vector<Info> infos;
  IMAGED_REQUIRE_OK(f.store->walk([&](const Info& info) { infos.push_back(info); }));
  std::set<std::string> seen;
  for (const auto& info : infos) {
    seen.insert(info.digest.str());
    CHECK(info.size == IMAGED_REQUIRE_VALUE(f.store->info(info.digest)).size);
  }
  CHECK(infos.size() == 5);
  CHECK(seen == expected);
}

void check_remove_blob(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob keep = make_blob(f.rng, 10);
  const Blob drop = make_blob(f.rng, 20);
  commit_blob(*f.store, "keep", keep, f.rng);
  commit_blob(*f.store, "drop", drop, f.rng);
  IMAGED_REQUIRE_OK(f.store->remove(drop.digest));
  IMAGED_REQUIRE_ERRC(f.store->info(drop.digest), Errc::NotFound);
  IMAGED_REQUIRE_ERRC(f.store->remove(drop.digest), Errc::NotFound);
  CHECK(walked(*f.store) == std::set<std::string>{keep.digest.str()});
  // Removed content can be committed again.
  commit_blob(*f.store, "drop-again", drop, f.rng);
  CHECK(read_all(*f.store, drop.digest) == drop.bytes);
}

void check_reader_survives_remove(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 5000);
  commit_blob(*f.store, "survivor", blob, f.rng);
  auto reader = IMAGED_REQUIRE_VALUE(f.store->open(blob.digest));
  IMAGED_REQUIRE_OK(f.store->remove(blob.digest));
  std::string out(5000, '\0');
  auto buf = std::as_writable_bytes(std::span(out.data(), out.size()));
  CHECK(IMAGED_REQUIRE_VALUE(reader->read_at(buf, 0)) == 5000);
  CHECK(out == blob.bytes);
}

void check_wrong_digest(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 3000);
  const Digest other = Digest::of("something else");
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("wrong-digest", 3000));
  IMAGED_REQUIRE_OK(writer->write(blob.bytes));
  IMAGED_REQUIRE_ERRC(writer->commit(3000, other), Errc::FailedPrecondition);
  IMAGED_REQUIRE_ERRC(f.store->info(other), Errc::NotFound);
  IMAGED_REQUIRE_ERRC(f.store->info(blob.digest), Errc::NotFound);
  CHECK(walked(*f.store).empty());
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());  // discarded
  // The ref is free again and starts from zero.
  auto again = IMAGED_REQUIRE_VALUE(f.store->writer("wrong-digest", 3000));
  CHECK(again->offset() == 0);
}

void check_wrong_size(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 3000);
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("wrong-size", -1));
  IMAGED_REQUIRE_OK(writer->write(blob.bytes));
  IMAGED_REQUIRE_ERRC(writer->commit(2999, blob.digest), Errc::FailedPrecondition);
  IMAGED_REQUIRE_ERRC(f.store->info(blob.digest), Errc::NotFound);
  CHECK(walked(*f.store).empty());
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());
}

void check_commit_existing(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 2000);
  commit_blob(*f.store, "first", blob, f.rng);
  const Info first = IMAGED_REQUIRE_VALUE(f.store->info(blob.digest));
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("second", 2000));
  IMAGED_REQUIRE_OK(writer->write(blob.bytes));
  IMAGED_REQUIRE_ERRC(writer->commit(2000, blob.digest), Errc::AlreadyExists);
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());
  CHECK(IMAGED_REQUIRE_VALUE(f.store->info(blob.digest)).committed_at == first.committed_at);
  CHECK(read_all(*f.store, blob.digest) == blob.bytes);
}

void check_writer_closed_after_commit(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 10);
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("closed", -1));
  IMAGED_REQUIRE_OK(writer->write(blob.bytes));
  IMAGED_REQUIRE_OK(writer->commit(10, blob.digest));
  IMAGED_REQUIRE_ERRC(writer->write("more"), Errc::FailedPrecondition);
  IMAGED_REQUIRE_ERRC(writer->truncate_to_zero(), Errc::FailedPrecondition);
  IMAGED_REQUIRE_ERRC(writer->commit(10, blob.digest), Errc::FailedPrecondition);
  writer->close();  // idempotent
  // A failed commit closes too.
  auto failed = IMAGED_REQUIRE_VALUE(f.store->writer("closed-2", -1));
  IMAGED_REQUIRE_OK(failed->write("abc"));
  IMAGED_REQUIRE_ERRC(failed->commit(3, blob.digest), Errc::FailedPrecondition);
  IMAGED_REQUIRE_ERRC(failed->write("abc"), Errc::FailedPrecondition);
}

void check_write_past_total(const StoreFactory& factory) {
  Fixture f(factory);
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("bounded", 5));
  IMAGED_REQUIRE_OK(writer->write("abc"));
  IMAGED_REQUIRE_ERRC(writer->write("def"), Errc::FailedPrecondition);
  CHECK(writer->offset() == 3);
  IMAGED_REQUIRE_OK(writer->write("de"));
  IMAGED_REQUIRE_OK(writer->commit(5, Digest::of("abcde")));
}

void check_empty_ref(const StoreFactory& factory) {
  Fixture f(factory);
  IMAGED_REQUIRE_ERRC(f.store->writer("", -1), Errc::InvalidArgument);
}

namespace {

// Writes half, lets `stop` end the first writer, then resumes and commits.
void resume_with(const StoreFactory& factory,
                 const std::function<void(std::unique_ptr<Writer>&)>& stop) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 2 * kMiB + 333);
  const size_t half = blob.bytes.size() / 2;
  const auto size = static_cast<int64_t>(blob.bytes.size());
  {
    auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("layer-resume", size));
    write_in_chunks(*writer, std::string_view(blob.bytes).substr(0, half), f.rng, 64 * 1024);
    stop(writer);
  }
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("layer-resume", size));
  REQUIRE(writer->offset() == static_cast<int64_t>(half));
  CHECK(writer->digest_so_far() == Digest::of(std::string_view(blob.bytes).substr(0, half)));
  write_in_chunks(*writer, std::string_view(blob.bytes).substr(half), f.rng, 64 * 1024);
  CHECK(writer->digest_so_far() == blob.digest);
  IMAGED_REQUIRE_OK(writer->commit(size, blob.digest));
  CHECK(read_all(*f.store, blob.digest) == blob.bytes);
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());
}

}  // namespace

void check_resume_after_close(const StoreFactory& factory) {
  resume_with(factory, [](std::unique_ptr<Writer>& w) { w->close(); });
}

void check_resume_after_destroy(const StoreFactory& factory) {
  resume_with(factory, [](std::unique_ptr<Writer>& w) { w.reset(); });
}

void check_truncate_and_rewrite(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob wrong = make_blob(f.rng, 1500);
  const Blob right = make_blob(f.rng, 1000);
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("truncate", -1));
  IMAGED_REQUIRE_OK(writer->write(wrong.bytes));
  IMAGED_REQUIRE_OK(writer->truncate_to_zero());
  CHECK(writer->offset() == 0);
  CHECK(writer->digest_so_far() == Digest::of(""));
  IMAGED_REQUIRE_OK(writer->write(right.bytes));
  IMAGED_REQUIRE_OK(writer->commit(1000, right.digest));
  CHECK(read_all(*f.store, right.digest) == right.bytes);
  // Truncating a resumed ingest drops the bytes from before, too.
  auto partial = IMAGED_REQUIRE_VALUE(f.store->writer("truncate-resumed", -1));
  IMAGED_REQUIRE_OK(partial->write(wrong.bytes));
  partial->close();
  auto resumed = IMAGED_REQUIRE_VALUE(f.store->writer("truncate-resumed", -1));
  CHECK(resumed->offset() == 1500);
  IMAGED_REQUIRE_OK(resumed->truncate_to_zero());
  resumed->close();
  auto after = IMAGED_REQUIRE_VALUE(f.store->writer("truncate-resumed", -1));
  CHECK(after->offset() == 0);
}

void check_one_writer_per_ref(const StoreFactory& factory) {
  Fixture f(factory);
  auto first = IMAGED_REQUIRE_VALUE(f.store->writer("held", -1));
  IMAGED_REQUIRE_OK(first->write("abc"));
  IMAGED_REQUIRE_ERRC(f.store->writer("held", -1), Errc::Unavailable);
  // Other refs are unaffected.
  auto other = IMAGED_REQUIRE_VALUE(f.store->writer("not-held", -1));
  first->close();
  auto second = IMAGED_REQUIRE_VALUE(f.store->writer("held", -1));
  CHECK(second->offset() == 3);
  // Released by commit as well.
  IMAGED_REQUIRE_OK(second->commit(3, Digest::of("abc")));
  auto third = IMAGED_REQUIRE_VALUE(f.store->writer("held", -1));
  CHECK(third->offset() == 0);
}

void check_parallel_writers(const StoreFactory& factory) {
  Fixture f(factory);
  constexpr int kThreads = 4;
  constexpr int kBlobsEach = 6;
  std::vector<std::vector<Blob>> blobs(kThreads);
  for (auto& list : blobs)
    for (int i = 0; i < kBlobsEach; ++i)
      list.push_back(make_blob(f.rng, 1 + f.rng() % (600 * 1024)));
  // Catch assertions are not thread-safe: threads record failures, the main thread checks.
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (int i = 0; i < kBlobsEach; ++i) {
        const Blob& blob = blobs[t][i];
        const std::string ref = "parallel-" + std::to_string(t) + "-" + std::to_string(i);
        auto writer = f.store->writer(ref, static_cast<int64_t>(blob.bytes.size()));
        Status status = writer ? Status{} : Status(fail((writer.error())));
        for (size_t done = 0; status && done < blob.bytes.size();) {
          const size_t n = std::min<size_t>(blob.bytes.size() - done, 1 + rng() % 65536);
          status = (*writer)->write(std::string_view(blob.bytes).substr(done, n));
          done += n;
        }
        if (status)
          status = (*writer)->commit(static_cast<int64_t>(blob.bytes.size()), blob.digest);
        if (!status) {
          std::lock_guard lock(mu);
          failures.push_back(ref + ": " + status.error().message);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO((failures.empty() ? std::string() : failures.front()));
  REQUIRE(failures.empty());
  CHECK(walked(*f.store).size() == kThreads * kBlobsEach);
  for (auto& list : blobs)
    for (auto& blob : list) CHECK(read_all(*f.store, blob.digest) == blob.bytes);
}

void check_racing_writers_one_ref(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 200 * 1024);
  constexpr int kThreads = 4;
  std::atomic<int> committed{0}, existed{0}, unavailable{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int attempt = 0; attempt < 50; ++attempt) {
        auto writer = f.store->writer("contended", static_cast<int64_t>(blob.bytes.size()));
        if (!writer) {
          (writer.error().code == Errc::Unavailable ? unavailable : other)++;
          continue;
        }
        // Whoever gets the ref finishes what is there (a loser may have left a prefix).
        auto w = std::move(*writer);
        Status status =
            w->write(std::string_view(blob.bytes).substr(static_cast<size_t>(w->offset())));
        if (status) status = w->commit(static_cast<int64_t>(blob.bytes.size()), blob.digest);
        if (status) {
          committed++;
        } else if (status.error().code == Errc::AlreadyExists) {
          existed++;
        } else {
          other++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(other == 0);
  CHECK(committed >= 1);
  CHECK(committed + existed + unavailable == kThreads * 50);
  CHECK(read_all(*f.store, blob.digest) == blob.bytes);
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());
}

void check_ingests_lists_partials(const StoreFactory& factory) {
  Fixture f(factory);
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());
  const auto before = Clock::now();
  {
    auto a = IMAGED_REQUIRE_VALUE(f.store->writer("partial-a", 100));
    IMAGED_REQUIRE_OK(a->write(std::string(40, 'a')));
  }  // closed by its destructor
  auto b = IMAGED_REQUIRE_VALUE(f.store->writer("partial-b", -1));
  IMAGED_REQUIRE_OK(b->write(std::string(7, 'b')));
  b->close();
  auto c = IMAGED_REQUIRE_VALUE(f.store->writer("partial-c", 10));  // still open
  const auto after = Clock::now();

  auto by_ref = ingests_by_ref(*f.store);
  REQUIRE(by_ref.size() == 3);
  CHECK(by_ref["partial-a"].offset == 40);
  CHECK(by_ref["partial-a"].total == 100);
  CHECK(by_ref["partial-b"].offset == 7);
  CHECK(by_ref["partial-b"].total == -1);
  CHECK(by_ref["partial-c"].offset == 0);
  CHECK(by_ref["partial-c"].total == 10);
  for (auto& [ref, status] : by_ref) {
    INFO(ref);
    CHECK(status.started_at >= before - 1s);
    CHECK(status.started_at <= status.updated_at + 1s);
    CHECK(status.updated_at <= after + 1s);
  }
}

void check_abort_removes(const StoreFactory& factory) {
  Fixture f(factory);
  auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("to-abort", -1));
  IMAGED_REQUIRE_OK(writer->write("partial bytes"));
  IMAGED_REQUIRE_ERRC(f.store->abort("to-abort"), Errc::Unavailable);
  writer->close();
  auto kept = IMAGED_REQUIRE_VALUE(f.store->writer("to-keep", -1));
  IMAGED_REQUIRE_OK(kept->write("kept"));
  kept->close();

  IMAGED_REQUIRE_OK(f.store->abort("to-abort"));
  auto by_ref = ingests_by_ref(*f.store);
  CHECK(by_ref.count("to-abort") == 0);
  CHECK(by_ref.count("to-keep") == 1);
  IMAGED_REQUIRE_ERRC(f.store->abort("to-abort"), Errc::NotFound);
  IMAGED_REQUIRE_ERRC(f.store->abort("never-started"), Errc::NotFound);
  auto fresh = IMAGED_REQUIRE_VALUE(f.store->writer("to-abort", -1));
  CHECK(fresh->offset() == 0);
}

void check_read_blob_limit(const StoreFactory& factory) {
  Fixture f(factory);
  const Blob blob = make_blob(f.rng, 4096);
  commit_blob(*f.store, "manifest", blob, f.rng);
  CHECK(IMAGED_REQUIRE_VALUE(read_blob(*f.store, blob.digest, 4096)) == blob.bytes);
  CHECK(IMAGED_REQUIRE_VALUE(read_blob(*f.store, blob.digest, 1 << 20)) == blob.bytes);
  IMAGED_REQUIRE_ERRC(read_blob(*f.store, blob.digest, 4095), Errc::ResourceExhausted);
  IMAGED_REQUIRE_ERRC(read_blob(*f.store, Digest::of("missing"), 4096), Errc::NotFound);
}

void check_write_blob_small(const StoreFactory& factory) {
  Fixture f(factory);
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const Digest digest = Digest::of(config);
  IMAGED_REQUIRE_OK(write_blob(*f.store, "config-" + std::string(digest.hex()), config, digest));
  IMAGED_REQUIRE_OK(write_blob(*f.store, "config-again", config, digest));  // exists: success
  CHECK(IMAGED_REQUIRE_VALUE(read_blob(*f.store, digest, 1024)) == config);
  IMAGED_REQUIRE_ERRC(write_blob(*f.store, "bad", config, Digest::of("other")),
                      Errc::FailedPrecondition);
  // A leftover partial under the ref is replaced, not appended to.
  auto partial = IMAGED_REQUIRE_VALUE(f.store->writer("leftover", -1));
  IMAGED_REQUIRE_OK(partial->write("junk"));
  partial->close();
  const std::string manifest = R"({"schemaVersion":2})";
  IMAGED_REQUIRE_OK(write_blob(*f.store, "leftover", manifest, Digest::of(manifest)));
  CHECK(IMAGED_REQUIRE_VALUE(read_blob(*f.store, Digest::of(manifest), 1024)) == manifest);
  CHECK(IMAGED_REQUIRE_VALUE(f.store->ingests()).empty());
}

void check_reopen_is_consistent(const StoreFactory& factory) {
  Fixture f(factory);
  std::vector<Blob> blobs;
  for (int i = 0; i < 4; ++i) {
    blobs.push_back(make_blob(f.rng, 1000 * (i + 1)));
    commit_blob(*f.store, "reopen-" + std::to_string(i), blobs.back(), f.rng);
  }
  IMAGED_REQUIRE_OK(f.store->remove(blobs[3].digest));
  const Blob partial = make_blob(f.rng, 50000);
  {
    auto writer = IMAGED_REQUIRE_VALUE(f.store->writer("reopen-partial", 50000));
    IMAGED_REQUIRE_OK(writer->write(std::string_view(partial.bytes).substr(0, 30000)));
  }
  f.store.reset();

  auto store = factory(f.root);
  REQUIRE(store);
  CHECK(walked(*store) ==
        std::set<std::string>{blobs[0].digest.str(), blobs[1].digest.str(), blobs[2].digest.str()});
  for (int i = 0; i < 3; ++i) CHECK(read_all(*store, blobs[i].digest) == blobs[i].bytes);
  auto by_ref = ingests_by_ref(*store);
  REQUIRE(by_ref.size() == 1);
  CHECK(by_ref["reopen-partial"].offset == 30000);
  auto writer = IMAGED_REQUIRE_VALUE(store->writer("reopen-partial", 50000));
  CHECK(writer->offset() == 30000);
  IMAGED_REQUIRE_OK(writer->write(std::string_view(partial.bytes).substr(30000)));
  IMAGED_REQUIRE_OK(writer->commit(50000, partial.digest));
  CHECK(read_all(*store, partial.digest) == partial.bytes);
}

}  // namespace imaged::content::conformance
