// libFuzzer target for the WWW-Authenticate parser: never crashes, and every parameter
// it returns has a non-empty lower-case name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/auth_challenge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto challenge = banger::image::oci::parseChallenge(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!challenge) return 0;
  if (challenge->scheme.empty()) std::abort();
  for (const auto& [name, value] : challenge->params)
    for (char c : name)
      if (c >= 'A' && c <= 'Z') std::abort();
  return 0;
}
