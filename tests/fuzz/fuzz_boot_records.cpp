// libFuzzer target for banger-init's reading of an image's tmpfiles.d/systemd.conf and of
// the kernel command line for the boot's runlevel: never crashes; what it writes back keeps
// every line and leaves no line that empties /run/utmp.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "boot_records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto runlevel = banger::guest::bootRunlevel("/nonexistent-root", text);
  if (runlevel && *runlevel != '1' && *runlevel != '3' && *runlevel != '5') std::abort();

  const std::string kept = banger::guest::tmpfilesKeepingUtmp(text);
  if (kept.empty()) return 0;
  const size_t header = kept.find('\n', kept.find('\n') + 1) + 1;
  const std::string body = kept.substr(header);
  if (!banger::guest::tmpfilesKeepingUtmp(body).empty()) std::abort();  // still empties it
  // Each line ends in a newline when written back, the last one too.
  const auto inputLines = std::count(text.begin(), text.end(), '\n') + (text.back() != '\n');
  if (std::count(body.begin(), body.end(), '\n') != inputLines) std::abort();
  return 0;
}
