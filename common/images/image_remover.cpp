#include "common/images/image_remover.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/images/blob_sweeper.h"
#include "common/images/event_log.h"
#include "common/images/image_lister.h"
#include "common/images/image_lookup.h"
#include "common/images/image_refs.h"
#include "common/images/image_users.h"
#include "common/metadata/metadata_store.h"
#include "common/oci.h"

namespace imaged::images {

namespace {

struct Outcome {
  std::vector<DeleteItem> items;
  std::vector<std::string> freed;  // blob digests whose last reference went (to unlink)
  int64_t reclaimed = 0;           // diff_size() of the freed layers
  bool events = false;             // events were appended (notify after commit)
};

// dockerd's isSingleReference: all refs in one repository and at most one tag. False for none.
bool is_single_reference(const std::vector<ImageRef>& refs) {
  if (refs.size() <= 1) return refs.size() == 1;
  const ImageRef* single = nullptr;
  std::set<std::string_view> digest_repos;
  for (const ImageRef& r : refs) {
    if (r.is_digest()) {
      digest_repos.insert(r.repository);
    } else if (!single) {
      single = &r;
    } else {
      return false;
    }
  }
  if (!single) single = &refs.front();
  return digest_repos.size() == 1 && digest_repos.contains(single->repository);
}

// One removal inside a write transaction. Every refusal (NotFound, Conflict) happens before the
// first change, so prune can skip an image and go on in the same transaction.
class TxRemover {
 public:
  TxRemover(metadata::WriteTx& tx, EventLog& events, Outcome& out, const ImageUsers* users)
      : tx_(tx), events_(events), out_(out), users_(users), now_(events.now_ns()) {}

  Status remove(std::string_view name, bool force) {
    const LookupResult found = IMAGED_TRY(lookup_image(tx_, name));
    const std::string& id = found.image_id;
    const metadata::ImageRecord image = IMAGED_TRY(tx_.get_image(id));
    std::vector<ImageRef> refs = IMAGED_TRY(refs_of(tx_, id));

    const std::optional<ImageUser> user = users_ ? users_->user_of(id) : std::nullopt;
    const bool by_name = !is_image_id_prefix(id, name);
    if (by_name) {
      // 0. The last name of an image a container uses stays, unless forced.
      if (user && !force && is_single_reference(refs))
        return fail(Errc::Conflict, "conflict: unable to remove repository reference \"" +
                                        std::string(name) + "\" (must force) - container " +
                                        user->container_id.substr(0, 12) +
                                        " is using its referenced image " + short_image_id(id));
      // 1. By reference: remove exactly that name (favouring the digest of name:tag@digest).
      const Reference ref = IMAGED_TRY(Reference::parse(name)).with_default_tag();
      const Reference key = ref.docker_ref();
      if (key.digest()) {
        IMAGED_TRY(tx_.remove_repo_digest(key.name(), key.digest()->str()));
      } else {
        IMAGED_TRY(tx_.remove_tag(key.name(), *key.tag(), now_));
      }
      untagged(ref.familiar());
      IMAGED_TRY(untag_event(image));
      refs = IMAGED_TRY(refs_of(tx_, id));
      // 2. The last tag of a repository takes the repository's digest refs with it.
      if (!ref.digest()) {
        const std::string repo = ref.name();
        const bool tag_left = std::any_of(refs.begin(), refs.end(), [&](const ImageRef& r) {
          return !r.is_digest() && r.repository == repo;
        });
        if (!tag_left) {
          std::vector<ImageRef> remaining;
          for (ImageRef& r : refs) {
            if (r.is_digest() && r.repository == repo) {
              IMAGED_TRY(tx_.remove_repo_digest(r.repository, r.digest));
              untagged(names_.ref(r));
            } else {
              remaining.push_back(std::move(r));
            }
          }
          refs = std::move(remaining);
        }
      }
      // 3. Still named: done.
      if (!refs.empty()) return {};
    } else if (is_single_reference(refs)) {
      // 4. By ID, one repository with at most one tag: untag everything first.
      for (const ImageRef& r : refs) IMAGED_TRY(untag(r, image));
      refs.clear();
    }

    // 5. Delete (dockerd's imageDeleteHelper). A container's image: a running container is a
    //    hard conflict, a stopped one a soft one (force overrides it). After its last name went,
    //    the image then silently stays, as dockerd's "quiet" delete.
    if (user && (user->running || !force)) {
      if (by_name) return {};
      return fail(Errc::Conflict,
                  "conflict: unable to delete " + short_image_id(id) +
                      (user->running ? " (cannot be forced)" : " (must be forced)") +
                      " - image is being used by " + (user->running ? "running" : "stopped") +
                      " container " + user->container_id.substr(0, 12));
    }
    // Refs left means a by-ID delete of an image named in several places, which needs force.
    if (!refs.empty() && !force) {
      return fail(Errc::Conflict, "conflict: unable to delete " + short_image_id(id) +
                                      " (must be forced) - image is referenced in multiple "
                                      "repositories");
    }
    for (const ImageRef& r : refs) IMAGED_TRY(untag(r, image));
    return delete_image(image);
  }

 private:
  void untagged(std::string ref) {
    out_.items.push_back(DeleteItem{DeleteItem::Kind::Untagged, std::move(ref)});
  }

  Status untag(const ImageRef& r, const metadata::ImageRecord& image) {
    if (r.is_digest()) {
      IMAGED_TRY(tx_.remove_repo_digest(r.repository, r.digest));
    } else {
      IMAGED_TRY(tx_.remove_tag(r.repository, r.tag, now_));
    }
    untagged(names_.ref(r));
    return untag_event(image);
  }

  // dockerd: LogImageEvent(imageID, imageID, "untag"), with the image's labels.
  Status untag_event(const metadata::ImageRecord& image) {
    Event e = image_event("untag", image.id, image.id, image.labels_json);
    IMAGED_TRY(events_.append(tx_, std::move(e)));
    out_.events = true;
    return {};
  }

  Status delete_image(const metadata::ImageRecord& image) {
    const auto layers = IMAGED_TRY(tx_.layers_of(image.id));
    const auto freed = IMAGED_TRY(tx_.delete_image(image.id));
    // After the delete dockerd no longer finds the image's labels: name only.
    Event e = image_event("delete", image.id, image.id);
    IMAGED_TRY(events_.append(tx_, std::move(e)));
    out_.events = true;
    out_.items.push_back(DeleteItem{DeleteItem::Kind::Deleted, image.id});
    // Freed layers, top layer first, named by their chain IDs as dockerd names released layers.
    std::vector<Digest> diff_ids;
    for (const auto& l : layers) diff_ids.push_back(IMAGED_TRY(Digest::parse(l.diff_id)));
    const std::vector<Digest> chains = oci::chain_ids(diff_ids);
    std::set<std::string_view> reported;
    for (size_t i = layers.size(); i-- > 0;) {
      const auto& layer = layers[i];
      if (!std::binary_search(freed.begin(), freed.end(), layer.digest)) continue;
      if (!reported.insert(layer.digest).second) continue;
      out_.items.push_back(DeleteItem{DeleteItem::Kind::Deleted, chains[i].str()});
      out_.reclaimed += layer.diff_size();
    }
    out_.freed.insert(out_.freed.end(), freed.begin(), freed.end());
    return {};
  }

  metadata::WriteTx& tx_;
  EventLog& events_;
  Outcome& out_;
  const ImageUsers* users_;
  const int64_t now_;
  FamiliarNames names_;
};

int64_t to_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<std::vector<DeleteItem>> ImageRemover::remove(std::string_view name, bool force) {
  Outcome out;
  IMAGED_TRY(metadata_.write([&](metadata::WriteTx& tx) -> Status {
    out = Outcome{};
    TxRemover remover(tx, events_, out, users_.load());
    return remover.remove(name, force);
  }));
  // Committed: now the files may go, and subscribers may see the events.
  if (out.events) events_.notify();
  IMAGED_TRY(sweeper_.sweep(out.freed));
  return std::move(out.items);
}

Result<PruneReport> ImageRemover::prune(const PruneOptions& options) {
  Outcome out;
  IMAGED_TRY(metadata_.write([&](metadata::WriteTx& tx) -> Status {
    out = Outcome{};
    const auto images = IMAGED_TRY(tx.list_images());
    const std::optional<int64_t> until =
        options.until ? std::optional(to_ns(*options.until)) : std::nullopt;
    for (const metadata::ImageRecord& image : images) {
      // 1. Candidates: created at or before `until`, labels matching (moby's matchLabels).
      if (until && image.created_ns > *until) continue;
      const nlohmann::json labels = labels_json_value(image.labels_json);
      if (!match_kv_list(options.labels, labels)) continue;
      if (!options.label_not.empty() && match_kv_list(options.label_not, labels)) continue;
      if (const ImageUsers* users = users_.load(); users && users->user_of(image.id)) continue;

      // 2. Remove through each name (all of them, or only those of untagged images), or by ID
      //    when it has none; refusals skip the image, as dockerd's imageDeleteFailed.
      const auto refs = IMAGED_TRY(refs_of(tx, image.id));
      std::vector<std::string> names;
      if (refs.empty()) {
        names.push_back(std::string(Digest::parse(image.id)->hex()));
      } else {
        const bool has_tag =
            std::any_of(refs.begin(), refs.end(), [](const ImageRef& r) { return !r.is_digest(); });
        if (options.dangling_only && has_tag) continue;
        for (const ImageRef& r : refs) names.push_back(r.full());
      }
      for (const std::string& name : names) {
        TxRemover remover(tx, events_, out, users_.load());
        Status st = remover.remove(name, /*force=*/false);
        if (!st && st.error().code != Errc::NotFound && st.error().code != Errc::Conflict)
          return st;
      }
    }
    // 3. The prune event, in the same transaction.
    Event e;
    e.action = "prune";
    e.attributes["reclaimed"] = std::to_string(out.reclaimed);
    IMAGED_TRY(events_.append(tx, std::move(e)));
    out.events = true;
    return {};
  }));
  events_.notify();
  IMAGED_TRY(sweeper_.sweep(out.freed));
  PruneReport report;
  report.space_reclaimed = out.reclaimed;
  for (DeleteItem& item : out.items) report.deleted.push_back(std::move(item));
  return report;
}

}  // namespace imaged::images
