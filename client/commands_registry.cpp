// Registry commands: login, logout, search.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "client/auth_config.h"
#include "client/cli.h"
#include "client/format.h"
#include "common/reference.h"

namespace imaged::client {

namespace {

using nlohmann::json;

std::string read_secret(Context& ctx, const std::string& prompt) {
  ctx.err << prompt << std::flush;
  termios old{};
  bool tty = ctx.stdin_tty && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(ctx.in, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    ctx.err << "\n";
  }
  return line;
}

int cmd_login(Context& ctx, const ParsedArgs& a) {
  std::string server = a.positionals.empty() ? "" : a.positionals[0];
  std::string user = a.get("username");
  std::string password = a.get("password");
  if (a.flag("password-stdin")) {
    if (a.has("password"))
      return ctx.usage("--password and --password-stdin are mutually exclusive");
    if (user.empty()) return ctx.usage("must provide --username with --password-stdin");
    std::getline(ctx.in, password);
    while (!password.empty() && (password.back() == '\r' || password.back() == '\n'))
      password.pop_back();
  } else if (a.has("password")) {
    ctx.err << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
  }
  if (user.empty()) {
    if (!ctx.stdin_tty)
      return ctx.usage("cannot prompt for a username: stdin is not a terminal (use -u)");
    ctx.err << "Username: " << std::flush;
    std::getline(ctx.in, user);
  }
  if (password.empty()) {
    if (!ctx.stdin_tty)
      return ctx.usage(
          "cannot prompt for a password: stdin is not a terminal (use --password-stdin)");
    password = read_secret(ctx, "Password: ");
  }
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  json body{{"username", user}, {"password", password}, {"serveraddress", auth_key(server)}};
  auto r = (*http)->call(HttpRequest{.method = "POST",
                                     .path = "/auth",
                                     .headers = {"Content-Type: application/json"},
                                     .body = body.dump()});
  if (!r) return ctx.fail(r.error().message);
  auto answer = json::parse(r->body, nullptr, false);
  Credentials creds{user, password};
  if (answer.is_object() && answer.value("IdentityToken", "") != "") {
    // As the docker CLI: keep the token, not the password.
    creds.username = "<token>";
    creds.password = answer["IdentityToken"].get<std::string>();
  }
  if (auto s = store_credentials(server, creds); !s) return ctx.fail(s.error().message);
  ctx.err << "WARNING! Your password will be stored unencrypted in " << config_file_path().string()
          << ".\n";
  ctx.out << (answer.is_object() ? answer.value("Status", "Login Succeeded") : "Login Succeeded")
          << "\n"
          << std::flush;
  return kExitOk;
}

int cmd_logout(Context& ctx, const ParsedArgs& a) {
  std::string server = a.positionals.empty() ? "" : a.positionals[0];
  if (!load_credentials(server)) {
    ctx.out << "Not logged in to " << auth_key(server) << "\n";
    return kExitOk;
  }
  if (auto s = erase_credentials(server); !s) return ctx.fail(s.error().message);
  ctx.out << "Removing login credentials for " << auth_key(server) << "\n";
  return kExitOk;
}

int cmd_search(Context& ctx, const ParsedArgs& a) {
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  HttpRequest req{.path = "/images/search",
                  .query = {{"term", a.positionals[0]}},
                  .headers = {"X-Registry-Auth: " +
                              registry_auth_header(split_search_term(a.positionals[0]).first)}};
  if (a.has("limit")) req.query.emplace_back("limit", a.get("limit"));
  json filters = json::object();
  for (auto& f : a.all("filter")) {
    auto eq = f.find('=');
    if (eq == std::string::npos)
      return ctx.usage("bad format of filter (expected name=value): " + f);
    filters[f.substr(0, eq)][f.substr(eq + 1)] = true;
  }
  if (!filters.empty()) req.query.emplace_back("filters", filters.dump());
  auto r = (*http)->call(req);
  if (!r) return ctx.fail(r.error().message);
  auto results = json::parse(r->body, nullptr, false);
  if (!results.is_array()) return ctx.fail("the daemon sent an invalid search result");
  bool no_trunc = a.flag("no-trunc");
  std::vector<Row> rows;
  for (auto& s : results) {
    std::string desc = s.value("description", "");
    for (auto& c : desc)
      if (c == '\n' || c == '\t') c = ' ';
    rows.push_back(Row{{{"Name", s.value("name", "")},
                        {"Description", no_trunc ? desc : ellipsis(desc, 45)},
                        {"StarCount", std::to_string(s.value("star_count", 0))},
                        {"IsOfficial", s.value("is_official", false) ? "[OK]" : ""}}});
  }
  auto tmpl = Template::parse(
      a.get("format").empty() ? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
                              : a.get("format"),
      {"Name", "Description", "StarCount", "IsOfficial"});
  if (!tmpl) return ctx.usage(tmpl.error().message);
  ctx.out << render(*tmpl, rows,
                    {{"Name", "NAME"},
                     {"Description", "DESCRIPTION"},
                     {"StarCount", "STARS"},
                     {"IsOfficial", "OFFICIAL"}})
          << std::flush;
  return kExitOk;
}

}  // namespace

std::vector<Command> registry_commands() {
  return {
      Command{
          .name = "login",
          .usage = "imagectl login [OPTIONS] [SERVER]",
          .summary = "Log in to a registry (credentials kept in ~/.docker/config.json, as docker)",
          .examples =
              "  imagectl login -u me registry.example.com\n"
              "  echo \"$TOKEN\" | imagectl login -u me --password-stdin 127.0.0.1:5000\n"
              "Credentials are checked by the daemon (POST /auth) and stored by imagectl\n"
              "in $DOCKER_CONFIG/config.json (default ~/.docker/config.json) under \"auths\",\n"
              "exactly as the docker CLI does; pull, push and search send them as\n"
              "X-Registry-Auth. Credential helpers (credsStore) are not used.\n",
          .options = {{"password", 'p', true, "string", "Password"},
                      {"password-stdin", 0, false, "", "Take the password from stdin"},
                      {"username", 'u', true, "string", "Username"}},
          .max_args = 1,
          .run = cmd_login},
      Command{.name = "logout",
              .usage = "imagectl logout [SERVER]",
              .summary = "Log out from a registry (removes the stored credentials)",
              .examples = "  imagectl logout 127.0.0.1:5000\n",
              .max_args = 1,
              .run = cmd_logout},
      Command{
          .name = "search",
          .usage = "imagectl search [OPTIONS] TERM",
          .summary = "Search Docker Hub (or the registry in TERM) for images",
          .examples = "  imagectl search busybox\n  imagectl search --limit 5 busybox\n",
          .options = {{"filter", 'f', true, "filter", "Filter output (is-official=true, stars=3)"},
                      {"format", 0, true, "string",
                       "Format output ({{.Name}}, {{.Description}}, {{.StarCount}}, "
                       "{{.IsOfficial}}, json)"},
                      {"limit", 0, true, "int", "Max number of search results"},
                      {"no-trunc", 0, false, "", "Don't truncate output"}},
          .min_args = 1,
          .max_args = 1,
          .run = cmd_search},
  };
}

}  // namespace imaged::client
