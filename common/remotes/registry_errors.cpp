#include "common/remotes/registry_errors.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace imaged::remotes {

using nlohmann::json;

std::vector<RegistryError> parse_registry_errors(std::string_view body) {
  std::vector<RegistryError> out;
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return out;
  auto str = [](const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto errs = j.find("errors"); errs != j.end() && errs->is_array()) {
    for (const auto& e : *errs) {
      if (!e.is_object()) continue;
      RegistryError re{str(e, "code"), str(e, "message"), {}};
      if (auto d = e.find("detail"); d != e.end() && !d->is_null())
        re.detail = d->is_string() ? d->get<std::string>() : d->dump();
      if (!re.code.empty() || !re.message.empty()) out.push_back(std::move(re));
    }
    return out;
  }
  if (std::string details = str(j, "details"); !details.empty()) {
    out.push_back({"UNAUTHORIZED", details, {}});
  } else if (std::string e = str(j, "error"); !e.empty()) {
    std::string desc = str(j, "error_description");
    out.push_back({e, desc.empty() ? e : desc, {}});
  } else if (std::string m = str(j, "message"); !m.empty()) {
    out.push_back({"", m, {}});
  }
  return out;
}

std::string format_registry_errors(const std::vector<RegistryError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    std::string code = e.code;
    for (char& c : code)
      c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (code.empty()) code = "unknown";
    out += code;
    if (!e.message.empty()) out += ": " + e.message;
  }
  return out;
}

Errc errc_for_status(int status) {
  switch (status) {
    case 400:
      return Errc::InvalidArgument;
    case 401:
      return Errc::Unauthenticated;
    case 403:
      return Errc::PermissionDenied;
    case 404:
      return Errc::NotFound;
    case 405:
    case 501:
      return Errc::Unimplemented;
    case 408:
      return Errc::Unavailable;
    case 409:
      return Errc::Conflict;
    case 413:
    case 429:
      return Errc::ResourceExhausted;
    case 416:
      return Errc::InvalidArgument;
    default:
      break;
  }
  if (status >= 500) return Errc::Unavailable;
  return Errc::Internal;
}

Error error_from_response(const HttpResponse& response, std::string_view method) {
  Errc code = errc_for_status(response.status);
  std::string registry = format_registry_errors(parse_registry_errors(response.body));
  if (!registry.empty()) return Error{code, registry};
  // HEAD answers have no body: use distribution's default messages for the common cases.
  switch (response.status) {
    case 401:
      return Error{code, "unauthorized: authentication required"};
    case 403:
      return Error{code, "denied: requested access to the resource is denied"};
    case 429:
      return Error{code, "toomanyrequests: too many requests"};
    default:
      break;
  }
  std::string m(method);
  for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return Error{code, "unexpected status from " + m + " request to " + response.url + ": " +
                         status_text(response.status)};
}

}  // namespace imaged::remotes
