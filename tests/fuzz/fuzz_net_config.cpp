// libFuzzer target for the Net service's outside input that is parsed as text:
// /etc/banger/net.toml and resolv.conf. Either parses or is refused with banger::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "banger/errors.h"
#include "nameservers.h"
#include "net_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    banger::net::parseNetConfig(text, "fuzz.toml");
  } catch (const banger::Error&) {
  }
  for (const auto& server : banger::net::parseResolvConf(text)) {
    if (server.empty()) __builtin_trap();
  }
  return 0;
}
