// Command-line parsing in docker's (pflag's) style: `--name value`, `--name=value`, `-n value`,
// `-nvalue`, grouped short booleans (`-af`), `--` ends the options, options may follow
// positionals. Pure; thread-safe.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"

namespace imaged::client {

struct OptionSpec {
  std::string name;     // long name without dashes: "format"
  char short_name = 0;  // 'f', or 0
  bool takes_value = false;
  std::string value_name;  // "string" in the help
  std::string help;
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> values;  // by long name; booleans "true"/"false"
  std::vector<std::string> positionals;

  bool flag(const std::string& name) const;  // a boolean option given (and not =false)
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;  // last value
  std::vector<std::string> all(const std::string& name) const;
};

// Errc::InvalidArgument "unknown flag: --x" / "unknown shorthand flag: 'x' in -x" /
// "flag needs an argument: --x" (pflag's wording).
// stop_at_positional: the first positional and everything after it go to positionals unparsed
// (for global options before the command).
Result<ParsedArgs> parse_args(std::span<const std::string> args,
                              const std::vector<OptionSpec>& specs,
                              bool stop_at_positional = false);

// The "Options:" block of a help text.
std::string options_help(const std::vector<OptionSpec>& specs);

}  // namespace imaged::client
