// Shared libraries the daemon opens on first use (dlopen) rather than at exec, the way systemd
// loads its optional dependencies.
//
// Why: libcurl and libarchive drag in some 35 further libraries (TLS stacks, Kerberos, LDAP,
// libxml2, ICU ...). Linked normally they cost every start of the daemon ~4 ms and ~6 MiB of
// resident memory, although a daemon that only lists, tags and inspects images never calls them.
// Opened lazily, that cost is paid by the first pull, push, save or load instead.
//
// Usage: a struct of function pointers listed once with an X-macro, filled by load_api():
//
//   #define IMAGED_FOO_API(X) X(foo_open) X(foo_close)
//   struct FooApi { IMAGED_FOO_API(IMAGED_API_MEMBER) };
//   Result<const FooApi*> foo_api() {
//     static const Result<FooApi> api = load_api<FooApi>("libfoo.so.1", [](SymbolBinder& b,
//         FooApi& a) { IMAGED_FOO_API(IMAGED_API_BIND) });
//     ...
//   }
//
// A library, once opened, is never closed: its functions may run on any thread until exit.
// Thread safety: load_api() is a pure function of its arguments; callers cache its result in a
// function-local static (initialised once, thread-safely).
#pragma once

#include <string>

#include "common/error.h"

namespace imaged {

// Declares member `f` of an API struct as a pointer to the C function `f` of the same name.
#define IMAGED_API_MEMBER(f) decltype(&::f) f = nullptr;
// Binds member `f` to the library's symbol "f" (inside a load_api() binder lambda: `b`, `a`).
#define IMAGED_API_BIND(f) b.bind(a.f, #f);

// Resolves symbols of one opened library, remembering the first that is missing.
class SymbolBinder {
 public:
  SymbolBinder(void* handle, std::string soname) : handle_(handle), soname_(std::move(soname)) {}

  template <class F>
  void bind(F& fn, const char* name) {
    fn = reinterpret_cast<F>(lookup(name));
  }
  // Internal "libfoo.so.1 has no symbol foo_open" when a lookup failed.
  Status status() const;

 private:
  void* lookup(const char* name);
  void* handle_;
  std::string soname_;
  std::string missing_;
};

// dlopen(soname); Internal "cannot load libfoo.so.1: <dlerror>" on failure.
Result<void*> open_library(const std::string& soname);

// Opens `soname` and fills an Api through bind(binder, api).
template <class Api, class Bind>
Result<Api> load_api(const std::string& soname, Bind&& bind) {
  void* handle = IMAGED_TRY(open_library(soname));
  SymbolBinder binder(handle, soname);
  Api api;
  bind(binder, api);
  IMAGED_TRY(binder.status());
  return api;
}

}  // namespace imaged
