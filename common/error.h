// The one error vocabulary of imaged (after containerd's errdefs and leveldb's Status).
//
// Every fallible function returns Result<T> (std::expected<T, Error>); exceptions are used only
// at the edges (main, the API dispatch wrapper, JSON parsing). Producers add context and keep the
// class; consumers branch on Errc, never on the message text. The api/ layer maps Errc to an HTTP
// status in exactly one place.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace imaged {

enum class Errc {
  InvalidArgument,     // bad input from the caller (400)
  NotFound,            // no such image / blob / tag (404)
  AlreadyExists,       // creating something that exists (409)
  Conflict,            // the state forbids it, e.g. image referenced in several repos (409)
  FailedPrecondition,  // e.g. a commit whose bytes do not match the expected digest (400)
  Unauthenticated,     // registry wants credentials (401)
  PermissionDenied,    // registry refused the credentials (403)
  ResourceExhausted,   // limits: body too large, too many connections, quota (413/429)
  Unavailable,         // transient: a lock held, a registry down (503)
  DeadlineExceeded,    // a timeout or a stall (504)
  Canceled,            // the client went away or shutdown began
  Unimplemented,       // (501)
  DataLoss,            // corruption found in the store
  Internal,            // everything else (500)
};

// Stable lower-case name of a code, for logs and tests ("not_found").
std::string_view errc_name(Errc code);

struct Error {
  Errc code = Errc::Internal;
  std::string message;

  // Returns a copy whose message reads "<context>: <message>", keeping the code.
  Error context(std::string_view ctx) const {
    return Error{code, std::string(ctx) + ": " + message};
  }
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

// `return fail(Errc::NotFound, "No such image: x");` in any function returning Result<T>.
inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}
inline std::unexpected<Error> fail(Error error) { return std::unexpected<Error>(std::move(error)); }

// Evaluates a Result-returning expression; on error, returns the error from the enclosing
// function. Usage: IMAGED_TRY(store.write(...)); auto v = IMAGED_TRY(parse(x));
#define IMAGED_TRY(expr)                                                    \
  ({                                                                        \
    auto imaged_try_result_ = (expr);                                       \
    if (!imaged_try_result_) return ::imaged::fail(std::move(imaged_try_result_.error())); \
    std::move(imaged_try_result_).value();                                  \
  })

}  // namespace imaged
