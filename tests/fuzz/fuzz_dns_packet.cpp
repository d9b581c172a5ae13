// libFuzzer target for the DNS packet path: whatever arrives, the reply is none or one an
// independent reader finds well formed (dns_reply_check.h), within the size its
// transport allows: 512 bytes over UDP without EDNS.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dns_message.h"
#include "dns_reply_check.h"
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
    const size_t limit = tcp ? banger::dns::kMaxMessage : banger::dns::check::udpLimit(data, size);
    if (!banger::dns::check::wellFormedReply(data, size, out.data(), n, limit)) __builtin_trap();
  }
  return 0;
}
