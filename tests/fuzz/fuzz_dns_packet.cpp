// libFuzzer target for the DNS packet path: whatever arrives, the reply is either none
// or a well-formed header within the size limit of its transport.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dns_message.h"
#include "zone.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const banger::dns::Zone zone = [] {
    banger::dns::Zone z;
    z.set("web", 0xac100005);
    z.set("db", 0xac100006);
    return z;
  }();
  static std::vector<uint8_t> out(banger::dns::kMaxMessage);
  for (bool tcp : {false, true}) {
    const size_t n = banger::dns::answer(data, size, zone, out.data(), tcp);
    if (n == 0) continue;
    if (n < 12 || (!tcp && n > banger::dns::kOurPayload) || !(out[2] & 0x80)) __builtin_trap();
    if (out[0] != data[0] || out[1] != data[1]) __builtin_trap();  // the id is kept
  }
  return 0;
}
