// libFuzzer target for the workspace plan's reading of `git status --porcelain=v2 -z`:
// any bytes parse without a crash, and every entry is a non-empty path taken from one
// record of the input, with the states of its kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "git_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& entry : banger::vm::parseGitStatus(text)) {
    if (entry.path.empty() || entry.path.find('\0') != std::string::npos ||
        text.find(entry.path) == std::string::npos)
      std::abort();
    if ((entry.index == '?') != (entry.tree == '?')) std::abort();
  }
  return 0;
}
