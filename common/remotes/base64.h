// Base64 for registry credentials: std and url alphabets, with or without padding (RFC 4648).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace imaged::remotes {

enum class Base64Alphabet { Standard, Url };

// Encodes with padding.
std::string base64_encode(std::string_view bytes,
                          Base64Alphabet alphabet = Base64Alphabet::Standard);

// Decodes either alphabet (even mixed), padding optional; ASCII whitespace is ignored (some tools
// wrap lines). nullopt for anything else (bad characters, misplaced padding, a dangling 6 bits).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace imaged::remotes
