// LocalStore's Writer: one ingest directory, buffered writes, incremental sha256, and the
// verify → fsync → rename commit. Not a public API; LocalStore::writer() is the way in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/content/content.h"
#include "common/content/local_ingest.h"

namespace imaged::content::local {

// Opens or resumes the ingest for `ref` (the contract of Ingester::writer). The Writer keeps
// `state` alive, so it may outlive its LocalStore.
Result<std::unique_ptr<Writer>> open_writer(const std::shared_ptr<StoreState>& state,
                                            const std::string& ref, int64_t expected_total);

}  // namespace imaged::content::local
