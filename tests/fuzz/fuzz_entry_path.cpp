// libFuzzer target for tar entry path normalisation: any input is split or refused, and
// what comes out never holds a '/', a ".." or an empty name, nor exceeds ext4's limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "banger/ext4/entry_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view path(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  std::string problem;
  if (!banger::ext4::splitEntryPath(path, parts, problem)) {
    if (problem.empty()) std::abort();
    return 0;
  }
  for (auto part : parts) {
    if (part.empty() || part == "." || part == ".." || part.find('/') != std::string_view::npos ||
        part.find('\0') != std::string_view::npos || part.size() > banger::ext4::kMaxNameBytes)
      std::abort();
  }
  if (banger::ext4::joinPath(parts).size() > banger::ext4::kMaxPathBytes + 1) std::abort();
  return 0;
}
