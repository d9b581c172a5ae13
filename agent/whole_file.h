// A small file (/proc entries, a module) read whole, for the guest binaries, which link
// nothing of lib/. An unreadable file reads as empty: the callers' checks say what is
// missing.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace banger::guest {

inline std::string readWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace banger::guest
