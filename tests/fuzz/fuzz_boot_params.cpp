// libFuzzer target for banger-init's command-line reader: never crashes, and whatever it
// accepts renders to words that it reads back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "boot_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view commandLine(reinterpret_cast<const char*>(data), size);
  banger::guest::BootParams params;
  try {
    params = banger::guest::parseBootParams(commandLine);
  } catch (const banger::guest::BootParamError&) {
    return 0;
  }
  const std::string rendered = banger::guest::renderBootParams(params);
  try {
    if (banger::guest::renderBootParams(banger::guest::parseBootParams(rendered)) != rendered)
      std::abort();
  } catch (const banger::guest::BootParamError&) {
    std::abort();  // accepted once, refused when written back
  }
  return 0;
}
