// libFuzzer target for DNS over TCP framing: the input is a connection's byte stream, fed
// to TcpSession in pieces whose sizes come from the stream itself. What it sends must be
// what a plain reading of the whole stream gives (each complete message's answer,
// length-prefixed, until the first one that earns none), every answer well formed.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dns_message.h"
#include "dns_reply_check.h"
#include "tcp_session.h"
#include "zone.h"

using namespace banger::dns;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Zone zone = [] {
    Zone z;
    z.set("web", 0xac100005);
    return z;
  }();
  static std::vector<uint8_t> scratch(kMaxMessage);

  // The reading of the whole stream at once.
  std::vector<uint8_t> expected;
  bool expectClose = false;
  size_t consumed = 0;  // bytes of complete messages before the end or the bad one
  size_t messages = 0;
  while (size - consumed >= 2) {
    const size_t length = check::read16(data + consumed);
    if (size - consumed - 2 < length) break;
    const uint8_t* query = data + consumed + 2;
    const size_t n = answer(query, length, zone, scratch.data(), true);
    if (n == 0) {
      expectClose = true;
      break;
    }
    if (!check::wellFormedReply(query, length, scratch.data(), n, kMaxMessage)) __builtin_trap();
    expected.push_back(static_cast<uint8_t>(n >> 8));
    expected.push_back(static_cast<uint8_t>(n));
    expected.insert(expected.end(), scratch.begin(), scratch.begin() + static_cast<long>(n));
    consumed += 2 + length;
    ++messages;
  }

  // The session, fed in pieces of 1 to 64 bytes chosen by the stream's own bytes.
  TcpSession session;
  std::vector<uint8_t> sent;
  bool open = true;
  for (size_t at = 0; at < size && open;) {
    const size_t piece = std::min<size_t>(size - at, 1 + data[at] % 64);
    open = session.receive(data + at, piece, zone, scratch.data());
    sent.insert(sent.end(), session.pending().begin(), session.pending().end());
    session.sent(session.pending().size());
    at += piece;
  }
  if (open == expectClose || sent != expected || session.answered() != messages) __builtin_trap();
  if (open && session.midMessage() != (consumed < size)) __builtin_trap();
  return 0;
}
