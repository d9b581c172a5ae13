// banger's own DNS wire codec for the one thing the .vm server does: read a query, write
// an answer. A hand-written codec instead of libldns because a query is parsed and
// answered without a single allocation here (ldns builds a heap object tree for every
// packet), which is what lets one thread outrun dnsmasq; it is fuzzed (tests/fuzz).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace banger::dns {

enum class Rcode : uint8_t {
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NxDomain = 3,
  NotImp = 4,
  Refused = 5
};

inline constexpr uint16_t kTypeA = 1, kTypeNs = 2, kTypeSoa = 6, kTypeOpt = 41, kTypeIxfr = 251,
                          kTypeAxfr = 252, kTypeAny = 255;
inline constexpr uint16_t kClassIn = 1, kClassAny = 255;
inline constexpr size_t kMaxMessage = 65535;
inline constexpr size_t kMaxName = 255;

struct Query {
  uint16_t id = 0;
  bool recursionDesired = false;
  uint8_t opcode = 0;
  // The question exactly as received (name in wire form, type, class), echoed back.
  size_t questionEnd = 0;  // offset just past the question in the packet
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  std::string name;  // lower-cased, dotted, no trailing dot ("web.vm"); "" = root
  size_t labelCount = 0;
  std::string firstLabel;  // lower-cased
  bool inZone = false;     // the last label is "vm"
  size_t apexOffset = 0;   // offset of the "vm" label in the packet (when inZone)
  bool edns = false;
  uint16_t ednsPayload = 512;
  uint8_t ednsVersion = 0;
};

enum class ParseResult {
  Ok,
  Drop,     // not worth an answer: too short for an id, or a response, not a query
  FormErr,  // answer FORMERR (the id is known)
  NotImp,   // answer NOTIMP (an opcode other than QUERY)
};

// Parses a query. On FormErr/NotImp `query.id` and flags are set for the error reply.
ParseResult parseQuery(const uint8_t* packet, size_t size, Query& query);

// Builds replies into a caller's buffer (at least kMaxMessage bytes).
class ResponseWriter {
 public:
  ResponseWriter(uint8_t* buffer, size_t limit) : buf_(buffer), limit_(limit) {}

  // Header + the question copied from the query packet.
  void begin(const uint8_t* packet, const Query& query, Rcode rcode, bool authoritative);
  // A header-only reply (FORMERR, NOTIMP) for an unparseable question.
  void headerOnly(uint16_t id, uint8_t opcode, bool rd, Rcode rcode);

  // Records; the owner name is a compression pointer to the question's name, or `owner`
  // given in wire form. Each returns false when it did not fit (then TC is set).
  bool addA(uint32_t address, uint32_t ttl);
  bool addSoa(uint32_t serial, uint32_t ttl, bool inAuthority);
  bool addNs(uint32_t ttl);
  // The OPT record, written after everything else; `badVersion` answers BADVERS.
  void addOpt(uint16_t payload, bool badVersion);
  bool truncated() const { return truncated_; }

  size_t size() const { return size_; }

 private:
  static constexpr size_t kOptSize = 11;
  bool fits(size_t n);  // false, and the reply truncated, when n more bytes do not fit
  void put16(uint16_t v);
  void put32(uint32_t v);
  void putPointer(size_t offset) { put16(static_cast<uint16_t>(0xC000 | offset)); }
  void bump(size_t countOffset);

  uint8_t* buf_;
  size_t limit_;
  size_t size_ = 0;
  size_t questionEnd_ = 12;
  size_t apexOffset_ = 12;
  bool truncated_ = false;
  bool reserveOpt_ = false;
};

}  // namespace banger::dns
