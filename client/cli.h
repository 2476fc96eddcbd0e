// imagectl's command table and dispatcher. Each command group lives in its own file
// (commands_images.cpp, commands_transfer.cpp, commands_registry.cpp, commands_system.cpp) and
// contributes Command entries; run_cli() parses the global options, finds the command, parses
// its options and runs it.
//
// Exit codes: 0 success, 1 daemon/API error, 2 usage error. Errors go to `err` as
// "imagectl: <message>". Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "client/args.h"
#include "client/http_client.h"

namespace imaged::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct Context {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool stdout_tty = false;
  bool stdin_tty = false;
  std::int64_t now = 0;                       // unix seconds, for "2 weeks ago"
  std::function<Result<HttpClient*>()> http;  // connects lazily (help needs no daemon)
  std::string command;                        // for "See 'imagectl X --help'."

  // Prints "imagectl: <message>" and returns kExitError.
  int fail(const std::string& message) const;
  // Prints "imagectl: <message>\nSee 'imagectl <cmd> --help'." and returns kExitUsage.
  int usage(const std::string& message) const;
};

struct Command {
  std::string name;
  std::vector<std::string> aliases;
  std::string usage;    // "imagectl pull [OPTIONS] NAME[:TAG|@DIGEST]"
  std::string summary;  // one line
  std::string examples;
  std::vector<OptionSpec> options;
  std::size_t min_args = 0;
  std::size_t max_args = static_cast<std::size_t>(-1);
  std::function<int(Context&, const ParsedArgs&)> run;
};

std::vector<Command> image_commands();
std::vector<Command> transfer_commands();
std::vector<Command> registry_commands();
std::vector<Command> system_commands();
std::vector<Command> all_commands();

std::string command_help(const Command& command);
std::string main_help();
std::string bash_completion();

// The whole program: argv without argv[0].
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            std::istream& in);

}  // namespace imaged::client
