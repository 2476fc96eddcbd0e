// POST /auth: `docker login` (engine-api.md §2). The body is the CLI's AuthConfig JSON
// ({"username","password","serveraddress"} or an identity token); the daemon checks it against
// the registry (RegistryClient::check_login: GET /v2/ through the token flow) and stores nothing.
//
// Answers: 200 {"IdentityToken":"...","Status":"Login Succeeded"}; wrong credentials 401 with the
// registry's message ("unauthorized: ..."); unreachable registry 500 (dockerd's
// "Get \"http://127.0.0.1:5999/v2/\": ... connection refused"); malformed JSON 400.
// An empty serveraddress means Docker Hub. Credentials are never logged.
#pragma once

#include <functional>
#include <string_view>

#include "common/error.h"
#include "common/remotes/auth_config.h"
#include "common/remotes/registry_client.h"

namespace imaged::api {

class Router;
struct Request;
class ResponseWriter;

// The login check (RegistryClient::check_login in the daemon; a fake in tests).
using LoginFn = std::function<Result<remotes::LoginResult>(std::string_view registry,
                                                           const remotes::AuthConfig& auth)>;

// Registers POST /auth. `login` must outlive the router's use.
void register_auth_routes(Router& router, LoginFn login);
// The LoginFn over a registry client (which must outlive it).
LoginFn login_with(remotes::RegistryClient& client);
// The handler, for tests.
void handle_auth(const LoginFn& login, Request& request, ResponseWriter& writer);

}  // namespace imaged::api
