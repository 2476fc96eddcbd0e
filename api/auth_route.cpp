#include "api/auth_route.h"

#include <nlohmann/json.hpp>

#include "api/http_status.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"

namespace imaged::api {

void handle_auth(const LoginFn& login, Request& request, ResponseWriter& writer) {
  auto body = request.read_body();
  if (!body) {
    writer.error(body.error());
    return;
  }
  auto auth = remotes::parse_auth_config_json(*body);
  if (!auth) {
    writer.json_text(400, error_body(auth.error().message));
    return;
  }
  const std::string registry = auth->server_address.empty() ? "docker.io" : auth->server_address;
  auto result = login(registry, *auth);
  if (!result) {
    writer.json_text(registry_error_status(result.error().code),
                     error_body(result.error().message));
    return;
  }
  nlohmann::ordered_json out;
  out["IdentityToken"] = result->identity_token;
  out["Status"] = result->status.empty() ? std::string("Login Succeeded") : result->status;
  writer.json(200, out);
}

LoginFn login_with(remotes::RegistryClient& client) {
  return [&client](std::string_view registry, const remotes::AuthConfig& auth) {
    remotes::CallContext ctx;
    ctx.auth = auth;
    return client.check_login(registry, auth, ctx);
  };
}

void register_auth_routes(Router& router, LoginFn login) {
  router.add(Method::Post, "/auth",
             [login = std::move(login)](Request& request, ResponseWriter& writer) {
               handle_auth(login, request, writer);
             });
}

}  // namespace imaged::api
