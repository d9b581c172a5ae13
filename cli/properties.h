// Reading the properties of a bus object (GetAll) the way every `show` and `list` prints
// them: missing ones read as empty, times in local time.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <vector>

namespace banger::cli {

using Properties = std::map<std::string, sdbus::Variant>;

inline std::string text(const Properties& props, const char* key) {
  auto it = props.find(key);
  return it == props.end() ? "" : it->second.get<std::string>();
}
inline std::uint64_t number(const Properties& props, const char* key) {
  auto it = props.find(key);
  return it == props.end() ? 0 : it->second.get<std::uint64_t>();
}
inline bool flag(const Properties& props, const char* key) {
  auto it = props.find(key);
  return it != props.end() && it->second.get<bool>();
}
inline std::vector<std::string> words(const Properties& props, const char* key) {
  auto it = props.find(key);
  return it == props.end() ? std::vector<std::string>{}
                           : it->second.get<std::vector<std::string>>();
}

inline std::string localTime(std::uint64_t microseconds) {
  const std::time_t seconds = static_cast<std::time_t>(microseconds / 1000000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%d %H:%M", &tm);
  return out;
}

}  // namespace banger::cli
