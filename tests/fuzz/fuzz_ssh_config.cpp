// libFuzzer target for the ~/.ssh/config block `banger ssh-config` edits: whatever a
// user's file holds, adding the block puts exactly one at the top, adding it again changes
// nothing, and removing it gives back the file as it was without banger's block.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ssh_config_file.h"

using namespace banger::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string original(reinterpret_cast<const char*>(data), size);
  const std::string ours = "/home/fuzz/.config/banger/ssh_config";
  const std::string installed = withInclude(original, ours);
  if (withInclude(installed, ours) != installed) std::abort();  // idempotent
  if (installed.find(includeBlock(ours)) == std::string::npos) std::abort();
  const std::string removed = withoutInclude(installed);
  if (withoutInclude(original) == original) {
    // A file without a block of its own: the block goes on top, and comes off byte for byte.
    if (installed != includeBlock(ours) + original) std::abort();
    if (removed != original) std::abort();
  }
  return 0;
}
