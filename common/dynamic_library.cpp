#include "common/dynamic_library.h"

#include <dlfcn.h>

namespace imaged {

void* SymbolBinder::lookup(const char* name) {
  void* p = ::dlsym(handle_, name);
  if (!p && missing_.empty()) missing_ = name;
  return p;
}

Status SymbolBinder::status() const {
  if (missing_.empty()) return {};
  return fail(Errc::Internal, soname_ + " has no symbol " + missing_ + " (wrong library version?)");
}

Result<void*> open_library(const std::string& soname) {
  // RTLD_LOCAL: the library's symbols stay out of the global namespace (nothing else binds to
  // them by accident); RTLD_NOW: a broken installation fails here, not in the middle of a pull.
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return fail(Errc::Internal, "cannot load " + soname + ": " + (why ? why : "unknown error"));
  }
  return handle;
}

}  // namespace imaged
