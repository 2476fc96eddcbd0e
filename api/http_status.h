// The one place that maps the error vocabulary (Errc) to HTTP statuses, and dockerd's error body.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace imaged::api {

// InvalidArgument, FailedPrecondition → 400; Unauthenticated → 401; PermissionDenied → 403;
// NotFound → 404; AlreadyExists, Conflict → 409; ResourceExhausted → 413 (request too large: the
// only producer in the serving path; a handler that means "slow down" sends 429 itself);
// Unimplemented → 501; Unavailable → 503; everything else (Internal, DataLoss, DeadlineExceeded,
// Canceled) → 500, as moby's httpstatus.FromError.
int http_status(Errc code);

// What dockerd answers when a registry call behind a request fails (login, search): the
// registry's 400/401/403 are kept, anything else is 500.
int registry_error_status(Errc code);

// `{"message":"..."}` plus the newline Go's JSON encoder appends; Go's HTML escaping applies.
std::string error_body(std::string_view message);

// The reason phrase for a status ("Not Found"), for logs and raw responses.
std::string_view reason_phrase(int status);

}  // namespace imaged::api
