// RegistryClient, push half: blob existence, cross-repository mounts, blob uploads (monolithic
// or chunked with resume), manifest PUTs. Pushes never go to mirrors.
#include <spdlog/spdlog.h>

#include "common/remotes/registry_client.h"
#include "common/remotes/registry_client_impl.h"
#include "common/remotes/registry_errors.h"

namespace imaged::remotes {

using SteadyClock = std::chrono::steady_clock;

namespace {

bool is_2xx(int s) { return s >= 200 && s < 300; }

// A body source over reader(offset .. offset+length), counting what it handed out.
BodySource range_source(const BlobReader& reader, int64_t offset, int64_t length,
                        std::shared_ptr<int64_t> sent) {
  return [&reader, offset, length, sent](std::span<std::byte> buf) mutable -> Result<size_t> {
    int64_t left = length - *sent;
    if (left <= 0) return size_t{0};
    auto want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size())));
    size_t got = IMAGED_TRY(reader(offset + *sent, buf.first(want)));
    if (got == 0)
      return fail(Errc::Internal,
                  "blob reader ended early at offset " + std::to_string(offset + *sent));
    *sent += static_cast<int64_t>(got);
    return got;
  };
}

// "0-1023" or "bytes=0-1023" → 1024 (the size the registry holds); nullopt when absent/odd.
std::optional<int64_t> uploaded_size(const HttpResponse& r) {
  auto range = r.headers.get("Range");
  if (!range) return std::nullopt;
  std::string_view v = *range;
  if (v.starts_with("bytes=")) v.remove_prefix(6);
  auto dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  int64_t end = 0;
  for (char c : v.substr(dash + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    end = end * 10 + (c - '0');
  }
  // distribution answers "0-0" for an empty upload too; assume empty (a 1-byte prefix is resent
  // and refused with 416, which restarts the upload).
  return end == 0 ? 0 : end + 1;
}

std::optional<Error> transport_failure(const std::expected<HttpResponse, TransportError>& r) {
  if (r) return std::nullopt;
  return r.error().to_error();
}

}  // namespace

Result<bool> RegistryClient::blob_exists(const Reference& repo, const Digest& digest,
                                         const CallContext& ctx) {
  ErrorPicker picked;
  for (const Endpoint& ep : impl_->push_eps(repo.domain())) {
    Call c = impl_->make_call("HEAD", ep, "/v2/" + repo.path() + "/blobs/" + digest.str(),
                              {push_scope(repo.path())}, impl_->creds_for(ep, ctx));
    auto r = impl_->session.run(c, ctx);
    if (!r) {
      if (r.error().kind == FailureKind::Canceled || r.error().cause)
        return fail(r.error().to_error());
      picked.add(r.error().to_error(), ErrorPicker::kTransport);
      continue;
    }
    impl_->note_answer(ep);
    if (is_2xx(r->status)) return true;
    if (r->status == 404) return false;
    return fail(error_from_response(*r, "HEAD"));
  }
  return fail(picked.take(Error{Errc::Unavailable, "no endpoint for " + repo.domain()}));
}

Result<bool> RegistryClient::mount_blob(const Reference& repo, const Digest& digest,
                                        std::string_view from_path, const CallContext& ctx) {
  ErrorPicker picked;
  for (const Endpoint& ep : impl_->push_eps(repo.domain())) {
    std::string path = "/v2/" + repo.path() + "/blobs/uploads/?mount=" + url_encode(digest.str()) +
                       "&from=" + url_encode(from_path);
    Call c = impl_->make_call("POST", ep, path,
                              {push_scope(repo.path()), pull_scope(std::string(from_path))},
                              impl_->creds_for(ep, ctx));
    auto r = impl_->session.run(c, ctx);
    if (!r) {
      if (r.error().kind == FailureKind::Canceled || r.error().cause)
        return fail(r.error().to_error());
      picked.add(r.error().to_error(), ErrorPicker::kTransport);
      continue;
    }
    impl_->note_answer(ep);
    if (r->status == 201) return true;
    if (r->status == 202) {
      // Not mounted, but an upload was opened: cancel it (best effort).
      if (auto loc = r->headers.get("Location")) {
        Call del = impl_->make_call("DELETE", ep, "", c.scopes, c.creds);
        del.url = resolve_location(c.url, *loc);
        (void)impl_->session.run(del, ctx, /*retry=*/false);
      }
      return false;
    }
    if (r->status == 401 || r->status == 403 || r->status == 404) return false;
    return fail(error_from_response(*r, "POST"));
  }
  return fail(picked.take(Error{Errc::Unavailable, "no endpoint for " + repo.domain()}));
}

Status RegistryClient::upload_blob(const Reference& repo, const oci::Descriptor& desc,
                                   const BlobReader& reader, const ProgressFn& progress,
                                   const CallContext& ctx) {
  const std::string scope = push_scope(repo.path());
  const bool monolithic = desc.size <= impl_->options.monolithic_upload_limit;
  const int64_t chunk = std::max<int64_t>(impl_->options.upload_chunk_size, 1);
  auto report = [&](int64_t n) {
    if (progress) progress(n);
  };
  ErrorPicker picked;

  for (const Endpoint& ep : impl_->push_eps(repo.domain())) {
    AuthConfig creds = impl_->creds_for(ep, ctx);
    auto start = SteadyClock::now();
    std::string location;  // the open upload session, "" when none
    int64_t pos = 0;       // bytes the registry holds in that session
    bool next_endpoint = false;

    for (int attempt = 1;;) {
      // 1. Open an upload session.
      if (location.empty()) {
        Call open =
            impl_->make_call("POST", ep, "/v2/" + repo.path() + "/blobs/uploads/", {scope}, creds);
        auto r = impl_->session.run(open, ctx);
        if (!r) {
          if (r.error().kind == FailureKind::Canceled || r.error().cause)
            return fail(r.error().to_error());
          picked.add(r.error().to_error(), ErrorPicker::kTransport);
          next_endpoint = true;
          break;
        }
        impl_->note_answer(ep);
        if (r->status != 202) return fail(error_from_response(*r, "POST"));
        auto loc = r->headers.get("Location");
        if (!loc) return fail(Errc::Unavailable, "registry opened an upload without a Location");
        location = resolve_location(open.url, *loc);
        pos = 0;
        report(0);
      }

      // 2. Send the bytes: one PUT, or PATCH chunks from `pos`.
      std::expected<HttpResponse, TransportError> r = std::unexpected(TransportError{});
      std::string failed_method;
      if (monolithic) {
        auto sent = std::make_shared<int64_t>(0);
        Call put = impl_->make_call("PUT", ep, "", {scope}, creds);
        put.url = add_query(location, "digest", desc.digest.str());
        put.headers.set("Content-Type", "application/octet-stream");
        put.body_source_factory = [&, sent] {
          *sent = 0;
          return range_source(reader, 0, desc.size, sent);
        };
        put.body_size = desc.size;
        put.timeout = std::chrono::milliseconds(0);
        r = impl_->session.exchange(put, ctx.stop);
        if (r && (r->status == 201 || r->status == 204 || r->status == 200)) {
          report(desc.size);
          break;  // done: verify below
        }
        failed_method = "PUT";
      } else {
        while (pos < desc.size) {
          int64_t n = std::min(chunk, desc.size - pos);
          auto sent = std::make_shared<int64_t>(0);
          Call patch = impl_->make_call("PATCH", ep, "", {scope}, creds);
          patch.url = location;
          patch.headers.set("Content-Type", "application/octet-stream");
          patch.headers.set("Content-Range",
                            std::to_string(pos) + "-" + std::to_string(pos + n - 1));
          int64_t from = pos;
          patch.body_source_factory = [&, sent, from, n] {
            *sent = 0;
            return range_source(reader, from, n, sent);
          };
          patch.body_size = n;
          patch.timeout = std::chrono::milliseconds(0);
          r = impl_->session.exchange(patch, ctx.stop);
          if (!r || r->status != 202) break;
          if (auto loc = r->headers.get("Location")) location = resolve_location(location, *loc);
          pos = uploaded_size(*r).value_or(pos + n);
          report(pos);
          attempt = 1;  // progress
        }
        if (pos >= desc.size) {
          Call put = impl_->make_call("PUT", ep, "", {scope}, creds);
          put.url = add_query(location, "digest", desc.digest.str());
          put.headers.set("Content-Type", "application/octet-stream");
          r = impl_->session.exchange(put, ctx.stop);
          if (r && (r->status == 201 || r->status == 204 || r->status == 200)) {
            report(desc.size);
            break;
          }
          failed_method = "PUT";
        } else {
          failed_method = "PATCH";
        }
      }

      // 3. A failure: give up on registry errors, else back off and resume (or restart).
      AttemptOutcome o;
      o.attempt = attempt;
      o.canceled = ctx.stop.stop_requested();
      Error error;
      if (!r) {
        if (r.error().kind == FailureKind::Canceled || r.error().cause)
          return fail(r.error().to_error());
        o.kind = r.error().kind;
        error = r.error().to_error();
      } else {
        int s = r->status;
        error = error_from_response(*r, failed_method);
        bool transient = s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
        if (s == 404 || s == 416) {
          location.clear();  // the session is gone or out of step: start a new one
          o.kind = FailureKind::ConnectionReset;
        } else if (!transient) {
          return fail(error);
        } else {
          o.kind = FailureKind::HttpStatus;
          o.status = s;
          o.retry_after = r->headers.get("Retry-After").value_or("");
        }
      }
      o.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
      RetryDecision d = impl_->session.decide(o);
      if (!d.retry) {
        if (d.reason.find('(') != std::string::npos) error.message += " (" + d.reason + ")";
        return fail(error);
      }
      if (!impl_->session.wait_before_retry(failed_method + " " + location, attempt, d, ctx))
        return fail(Errc::Canceled, "upload of " + desc.digest.str() + " canceled");
      attempt = d.reset_attempts ? 1 : attempt + 1;
      if (monolithic) {
        location.clear();
        continue;
      }
      // Where is the registry? GET <location> answers 204 with Range: 0-<last byte>.
      if (!location.empty()) {
        Call status = impl_->make_call("GET", ep, "", {scope}, creds);
        status.url = location;
        auto st = impl_->session.run(status, ctx);
        if (auto e = transport_failure(st); e && st.error().kind == FailureKind::Canceled)
          return fail(*e);
        if (st && (st->status == 204 || st->status == 202)) {
          if (auto loc = st->headers.get("Location")) location = resolve_location(location, *loc);
          pos = uploaded_size(*st).value_or(0);
          report(pos);
        } else {
          location.clear();  // unknown state: start over
        }
      }
    }
    if (next_endpoint) continue;
    return {};
  }
  return fail(picked.take(Error{Errc::Unavailable, "no endpoint for " + repo.domain()}));
}

Result<Digest> RegistryClient::put_manifest(const Reference& repo, std::string_view tag_or_digest,
                                            std::string_view media_type, std::string_view bytes,
                                            const CallContext& ctx) {
  if (static_cast<int64_t>(bytes.size()) > oci::kMaxManifestSize)
    return fail(Errc::InvalidArgument,
                "manifest too large: " + std::to_string(bytes.size()) + " bytes");
  const Digest expected = Digest::of(bytes);
  ErrorPicker picked;
  for (const Endpoint& ep : impl_->push_eps(repo.domain())) {
    Call c = impl_->make_call("PUT", ep,
                              "/v2/" + repo.path() + "/manifests/" + std::string(tag_or_digest),
                              {push_scope(repo.path())}, impl_->creds_for(ep, ctx));
    c.headers.set("Content-Type", std::string(media_type));
    c.body = std::string(bytes);
    auto r = impl_->session.run(c, ctx);
    if (!r) {
      if (r.error().kind == FailureKind::Canceled || r.error().cause)
        return fail(r.error().to_error());
      picked.add(r.error().to_error(), ErrorPicker::kTransport);
      continue;
    }
    impl_->note_answer(ep);
    if (!is_2xx(r->status)) return fail(error_from_response(*r, "PUT"));
    if (auto h = r->headers.get("Docker-Content-Digest")) {
      auto got = Digest::parse(*h);
      if (!got || *got != expected)
        return fail(Errc::FailedPrecondition,
                    "registry computed manifest digest " + *h + ", expected " + expected.str());
    }
    return expected;
  }
  return fail(picked.take(Error{Errc::Unavailable, "no endpoint for " + repo.domain()}));
}

}  // namespace imaged::remotes
