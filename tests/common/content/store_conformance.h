// A conformance suite every content::Store implementation must pass (after containerd's
// core/content/testsuite). An implementation's test file registers it with
//
//   std::unique_ptr<Store> open_local_store(const std::filesystem::path& root) {...}
//   IMAGED_CONTENT_STORE_CONFORMANCE("local store", open_local_store)
//
// which expands to one TEST_CASE per behaviour, named "<name>: <behaviour>" and tagged
// [content][conformance]. The factory opens (or reopens) a store rooted at `root`; each check
// makes its own temporary directory and may call the factory several times on one root.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "common/content/content.h"

namespace imaged::content::conformance {

using StoreFactory = std::function<std::unique_ptr<Store>(const std::filesystem::path& root)>;

// X-macro of the checks: X(name, factory, function suffix, behaviour). One behaviour each.
#define IMAGED_CONTENT_CONFORMANCE_CHECKS(X, name, factory)                                       \
  X(name, factory, write_commit_read, "write, commit and read back")                              \
  X(name, factory, info_of_committed_blob, "info reports digest, size and commit time")           \
  X(name, factory, missing_blob_is_not_found, "open and info of a missing blob are NotFound")     \
  X(name, factory, read_at_bounds, "read_at is bounded by the blob size")                         \
  X(name, factory, empty_blob, "an empty blob commits")                                           \
  X(name, factory, walk_lists_committed, "walk lists exactly the committed blobs")                \
  X(name, factory, remove_blob, "remove deletes a blob, removing again is NotFound")              \
  X(name, factory, reader_survives_remove, "an open reader keeps reading a removed blob")         \
  X(name, factory, wrong_digest,                                                                  \
    "commit with a wrong digest is FailedPrecondition, nothing committed")                        \
  X(name, factory, wrong_size,                                                                    \
    "commit with a wrong size is FailedPrecondition, nothing committed")                          \
  X(name, factory, commit_existing,                                                               \
    "commit of an existing blob is AlreadyExists, ingest discarded")                              \
  X(name, factory, writer_closed_after_commit, "a writer is closed after commit")                 \
  X(name, factory, write_past_total, "a write past the expected total is refused")                \
  X(name, factory, empty_ref, "an empty ref is InvalidArgument")                                  \
  X(name, factory, resume_after_close, "close then reopen resumes with offset and digest")        \
  X(name, factory, resume_after_destroy, "destroying a writer keeps the ingest for resume")       \
  X(name, factory, truncate_and_rewrite, "truncate_to_zero then rewrite commits the new bytes")   \
  X(name, factory, one_writer_per_ref,                                                            \
    "a second writer for a held ref is Unavailable until close")                                  \
  X(name, factory, parallel_writers, "threads writing different refs concurrently")               \
  X(name, factory, racing_writers_one_ref, "threads racing for one ref commit it once")           \
  X(name, factory, ingests_lists_partials, "ingests lists partial ingests with offset and total") \
  X(name, factory, abort_removes,                                                                 \
    "abort removes an ingest, NotFound after, Unavailable while held")                            \
  X(name, factory, read_blob_limit, "read_blob reads small blobs and refuses large ones")         \
  X(name, factory, write_blob_small, "write_blob commits and treats an existing blob as success") \
  X(name, factory, reopen_is_consistent, "reopening the store keeps blobs and resumable ingests")

#define IMAGED_CONTENT_CONFORMANCE_DECLARE_(name, factory, fn, what) \
  void check_##fn(const StoreFactory& factory);
IMAGED_CONTENT_CONFORMANCE_CHECKS(IMAGED_CONTENT_CONFORMANCE_DECLARE_, _, factory)
#undef IMAGED_CONTENT_CONFORMANCE_DECLARE_

// Deterministic pseudo-random bytes.
std::string random_bytes(std::mt19937_64& rng, size_t n);

// Writes `bytes` in chunks of random sizes in [1, max_chunk].
void write_in_chunks(Writer& writer, std::string_view bytes, std::mt19937_64& rng,
                     size_t max_chunk);

}  // namespace imaged::content::conformance

// Assertion helpers that print the Error's code and message on failure.
#define IMAGED_REQUIRE_OK(expr)                                                         \
  do {                                                                                  \
    auto&& imaged_ok_ = (expr);                                                         \
    if (!imaged_ok_)                                                                    \
      FAIL(#expr << " failed: " << ::imaged::errc_name(imaged_ok_.error().code) << ": " \
                 << imaged_ok_.error().message);                                        \
  } while (0)

// Evaluates to the value of a Result<T>, failing the test on an error.
#define IMAGED_REQUIRE_VALUE(expr)                                                         \
  ({                                                                                       \
    auto imaged_value_ = (expr);                                                           \
    if (!imaged_value_)                                                                    \
      FAIL(#expr << " failed: " << ::imaged::errc_name(imaged_value_.error().code) << ": " \
                 << imaged_value_.error().message);                                        \
    std::move(*imaged_value_);                                                             \
  })

#define IMAGED_REQUIRE_ERRC(expr, errc)                                                   \
  do {                                                                                    \
    auto&& imaged_err_ = (expr);                                                          \
    if (imaged_err_) FAIL(#expr << " succeeded; expected " << ::imaged::errc_name(errc)); \
    INFO(imaged_err_.error().message);                                                    \
    REQUIRE(::imaged::errc_name(imaged_err_.error().code) == ::imaged::errc_name(errc));  \
  } while (0)

// Registers the suite for one implementation. `factory` must be a name (a function or a
// variable), not a lambda expression: commas in a lambda body would split the macro argument.
#define IMAGED_CONTENT_CONFORMANCE_CASE_(name, factory, fn, what) \
  TEST_CASE(name ": " what, "[content][conformance]") {           \
    ::imaged::content::conformance::check_##fn(factory);          \
  }
#define IMAGED_CONTENT_STORE_CONFORMANCE(name, factory) \
  IMAGED_CONTENT_CONFORMANCE_CHECKS(IMAGED_CONTENT_CONFORMANCE_CASE_, name, factory)
