#include "common/error.h"

namespace imaged {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::InvalidArgument: return "invalid_argument";
    case Errc::NotFound: return "not_found";
    case Errc::AlreadyExists: return "already_exists";
    case Errc::Conflict: return "conflict";
    case Errc::FailedPrecondition: return "failed_precondition";
    case Errc::Unauthenticated: return "unauthenticated";
    case Errc::PermissionDenied: return "permission_denied";
    case Errc::ResourceExhausted: return "resource_exhausted";
    case Errc::Unavailable: return "unavailable";
    case Errc::DeadlineExceeded: return "deadline_exceeded";
    case Errc::Canceled: return "canceled";
    case Errc::Unimplemented: return "unimplemented";
    case Errc::DataLoss: return "data_loss";
    case Errc::Internal: return "internal";
  }
  return "internal";
}

}  // namespace imaged
