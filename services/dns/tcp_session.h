// One DNS-over-TCP connection's bytes, without the socket: RFC 1035 length-prefixed
// queries in (pipelining allowed), length-prefixed answers out. Fuzzed on its own
// (tests/fuzz/fuzz_dns_tcp.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "zone.h"

namespace banger::dns {

class TcpSession {
 public:
  // Takes bytes as they arrive and answers every message they complete. False when a
  // message earned no answer (garbage): the connection should be closed.
  // `scratch` holds kMaxMessage bytes.
  bool receive(const uint8_t* data, size_t size, const Zone& zone, uint8_t* scratch);
  // Part of a message has arrived and the rest has not.
  bool midMessage() const { return !in_.empty(); }
  // Messages answered so far.
  size_t answered() const { return answered_; }
  // Answers not yet sent; `sent(n)` drops the first n bytes.
  const std::vector<uint8_t>& pending() const { return out_; }
  void sent(size_t n);

 private:
  std::vector<uint8_t> in_;
  std::vector<uint8_t> out_;
  size_t answered_ = 0;
};

}  // namespace banger::dns
