#include "common/containers/names.h"

#include <array>
#include <random>

namespace imaged::containers {

namespace {

constexpr std::array<std::string_view, 24> kAdjectives = {
    "admiring", "affectionate", "agitated", "amazing", "angry",    "awesome", "blissful", "bold",
    "brave",    "charming",     "clever",   "cool",    "dazzling", "eager",   "elated",   "focused",
    "friendly", "gallant",      "happy",    "jolly",   "keen",     "loving",  "modest",   "quirky"};

constexpr std::array<std::string_view, 24> kSurnames = {
    "babbage", "bohr",    "curie",   "darwin",  "einstein", "euclid",   "faraday", "fermat",
    "galileo", "hopper",  "hypatia", "kepler",  "lamport",  "lovelace", "maxwell", "meitner",
    "newton",  "noether", "pascal",  "ritchie", "shannon",  "thompson", "turing",  "wozniak"};

std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

}  // namespace

bool valid_name(std::string_view name) {
  auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (!first && (c == '_' || c == '.' || c == '-'));
  };
  if (name.size() < 2) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!ok(name[i], i == 0)) return false;
  return true;
}

std::string generate_name(int retry) {
  std::string name = std::string(kAdjectives[rng()() % kAdjectives.size()]) + "_" +
                     std::string(kSurnames[rng()() % kSurnames.size()]);
  if (retry > 0) name += std::to_string(rng()() % 10);
  return name;
}

std::string random_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string id;
  for (int i = 0; i < 8; ++i) {
    auto word = device();
    for (int j = 0; j < 8; ++j) id += kHex[(word >> (4 * j)) & 0xf];
  }
  return id;
}

}  // namespace imaged::containers
