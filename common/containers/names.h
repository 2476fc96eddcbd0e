// Container names: dockerd's rules for the names users give, and generated names in the style
// of moby's namesgenerator ("adjective_surname").
#pragma once

#include <string>
#include <string_view>

namespace imaged::containers {

// True when `name` (without its leading '/') matches dockerd's [a-zA-Z0-9][a-zA-Z0-9_.-]+.
bool valid_name(std::string_view name);

// A random "adjective_surname" (a digit is appended when `retry` > 0, as moby does).
std::string generate_name(int retry);

// 64 random lower-case hex characters (a container ID).
std::string random_id();

}  // namespace imaged::containers
