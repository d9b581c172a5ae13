// An independent reading of the .vm server's replies, for the fuzz targets: nothing here
// shares code with the codec it checks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace banger::dns::check {

inline uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Offset just past the name at `at` (labels, or labels ending in a pointer to an earlier
// offset); 0 when it runs off the end or a pointer does not point back.
inline size_t skipName(const uint8_t* p, size_t n, size_t at) {
  while (at < n) {
    const uint8_t length = p[at];
    if (length == 0) return at + 1;
    if ((length & 0xC0) == 0xC0) {
      if (at + 2 > n || static_cast<size_t>(((length & 0x3F) << 8) | p[at + 1]) >= at) return 0;
      return at + 2;
    }
    if (length > 63) return 0;
    at += 1 + length;
  }
  return 0;
}

// The UDP size a reply to this query may take: 512, or what its OPT record offers (at
// least 512, at most the 1232 the server offers). Found by walking the query itself.
inline size_t udpLimit(const uint8_t* q, size_t n) {
  if (n < 12) return 512;
  size_t at = 12;
  for (uint16_t i = 0; i < read16(q + 4); ++i) {
    at = skipName(q, n, at);
    if (at == 0 || at + 4 > n) return 512;
    at += 4;
  }
  const unsigned records = read16(q + 6) + read16(q + 8) + read16(q + 10);
  for (unsigned i = 0; i < records; ++i) {
    const size_t name = at;
    at = skipName(q, n, at);
    if (at == 0 || at + 10 > n) return 512;
    if (q[name] == 0 && read16(q + at) == 41) {
      const size_t offered = read16(q + at + 2);
      return offered < 512 ? 512 : offered > 1232 ? 1232 : offered;
    }
    at += 10 + read16(q + at + 8);
  }
  return 512;
}

// A reply to `query` over UDP (limit) or TCP (limit 65535): a response with the query's
// id; header only, or the query's question echoed byte for byte followed by exactly the
// records its counts promise and nothing after them.
inline bool wellFormedReply(const uint8_t* query, size_t queryLength, const uint8_t* r, size_t n,
                            size_t limit) {
  if (n < 12 || n > limit || !(r[2] & 0x80)) return false;
  if (r[0] != query[0] || r[1] != query[1]) return false;
  const uint16_t questions = read16(r + 4);
  const unsigned records = read16(r + 6) + read16(r + 8) + read16(r + 10);
  if (questions == 0) return n == 12 && records == 0;
  if (questions != 1) return false;
  const size_t questionEnd = skipName(r, n, 12);
  if (questionEnd == 0 || questionEnd + 4 > n || questionEnd + 4 > queryLength) return false;
  for (size_t i = 12; i < questionEnd + 4; ++i) {
    if (r[i] != query[i]) return false;
  }
  size_t at = questionEnd + 4;
  for (unsigned i = 0; i < records; ++i) {
    at = skipName(r, n, at);
    if (at == 0 || at + 10 > n) return false;
    at += 10 + read16(r + at + 8);
    if (at > n) return false;
  }
  return at == n;
}

}  // namespace banger::dns::check
