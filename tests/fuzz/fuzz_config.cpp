// libFuzzer target for config.toml parsing: any input either parses or is refused with
// banger::Error; nothing else may escape, crash or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "banger/config.h"
#include "banger/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    banger::parseConfig(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml",
                        "/home/fuzz");
  } catch (const banger::Error&) {
  }
  return 0;
}
