#include "dns_message.h"

#include <cstring>

namespace banger::dns {
namespace {
inline uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline char lower(uint8_t c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); }
constexpr size_t kHeader = 12;
}  // namespace

ParseResult parseQuery(const uint8_t* p, size_t size, Query& q) {
  if (size < kHeader) return ParseResult::Drop;
  q = Query{};
  q.id = read16(p);
  const uint8_t flags = p[2];
  if (flags & 0x80) return ParseResult::Drop;  // a response: never answer one
  q.opcode = (flags >> 3) & 0x0f;
  q.recursionDesired = flags & 0x01;
  if (q.opcode != 0) return ParseResult::NotImp;
  if (read16(p + 4) != 1) return ParseResult::FormErr;  // exactly one question

  // The question name: plain labels only. It is the first name in the message, so a
  // compression pointer could only point into the header: always malformed.
  size_t at = kHeader;
  size_t wireLength = 0;
  size_t lastLabel = 0;
  std::string lastLabelText;
  for (;;) {
    if (at >= size) return ParseResult::FormErr;
    const uint8_t length = p[at];
    if (length == 0) {
      ++at;
      ++wireLength;
      break;
    }
    if (length > 63) return ParseResult::FormErr;  // pointers (0xC0) and reserved bits
    if (at + 1 + length > size) return ParseResult::FormErr;
    wireLength += 1 + length;
    if (wireLength + 1 > kMaxName) return ParseResult::FormErr;
    lastLabel = at;
    lastLabelText.clear();
    for (size_t i = 0; i < length; ++i) lastLabelText.push_back(lower(p[at + 1 + i]));
    if (q.labelCount == 0) q.firstLabel = lastLabelText;
    if (!q.name.empty()) q.name.push_back('.');
    q.name += lastLabelText;
    ++q.labelCount;
    at += 1 + length;
  }
  if (at + 4 > size) return ParseResult::FormErr;
  q.qtype = read16(p + at);
  q.qclass = read16(p + at + 2);
  at += 4;
  q.questionEnd = at;
  q.inZone = q.labelCount > 0 && lastLabelText == "vm";
  q.apexOffset = lastLabel;

  // Answer and authority sections have no place in a query; skip none, trust none.
  if (read16(p + 6) != 0 || read16(p + 8) != 0) return ParseResult::FormErr;
  const uint16_t additional = read16(p + 10);
  for (uint16_t i = 0; i < additional; ++i) {
    // Only an OPT record (root owner) is understood in a query's additional section.
    if (at + 11 > size || p[at] != 0) return ParseResult::FormErr;
    const uint16_t type = read16(p + at + 1);
    const uint16_t rdlength = read16(p + at + 9);
    if (at + 11 + rdlength > size) return ParseResult::FormErr;
    if (type == kTypeOpt) {
      if (q.edns) return ParseResult::FormErr;  // at most one OPT (RFC 6891)
      q.edns = true;
      q.ednsPayload = read16(p + at + 3);
      q.ednsVersion = p[at + 6];
    }
    at += 11 + rdlength;
  }
  if (at != size) return ParseResult::FormErr;  // trailing garbage
  return ParseResult::Ok;
}

void ResponseWriter::put16(uint16_t v) {
  buf_[size_++] = static_cast<uint8_t>(v >> 8);
  buf_[size_++] = static_cast<uint8_t>(v);
}

void ResponseWriter::put32(uint32_t v) {
  put16(static_cast<uint16_t>(v >> 16));
  put16(static_cast<uint16_t>(v));
}

void ResponseWriter::bump(size_t countOffset) {
  const uint16_t n = static_cast<uint16_t>(read16(buf_ + countOffset) + 1);
  buf_[countOffset] = static_cast<uint8_t>(n >> 8);
  buf_[countOffset + 1] = static_cast<uint8_t>(n);
}

bool ResponseWriter::fits(size_t n) {
  if (truncated_) return false;
  if (size_ + n + (reserveOpt_ ? kOptSize : 0) <= limit_) return true;
  // Does not fit: keep header and question, drop every record, set TC (RFC 2181 9).
  truncated_ = true;
  size_ = questionEnd_;
  std::memset(buf_ + 6, 0, 6);
  buf_[2] |= 0x02;
  return false;
}

void ResponseWriter::begin(const uint8_t* packet, const Query& q, Rcode rcode, bool authoritative) {
  std::memcpy(buf_, packet, q.questionEnd);
  buf_[2] = static_cast<uint8_t>(0x80 | (q.opcode << 3) | (authoritative ? 0x04 : 0) |
                                 (q.recursionDesired ? 0x01 : 0));
  buf_[3] = static_cast<uint8_t>(rcode);
  std::memset(buf_ + 4, 0, 8);
  buf_[5] = 1;
  size_ = questionEnd_ = q.questionEnd;
  apexOffset_ = q.apexOffset;
  reserveOpt_ = q.edns;
  truncated_ = false;
}

void ResponseWriter::headerOnly(uint16_t id, uint8_t opcode, bool rd, Rcode rcode) {
  std::memset(buf_, 0, kHeader);
  buf_[0] = static_cast<uint8_t>(id >> 8);
  buf_[1] = static_cast<uint8_t>(id);
  buf_[2] = static_cast<uint8_t>(0x80 | (opcode << 3) | (rd ? 0x01 : 0));
  buf_[3] = static_cast<uint8_t>(rcode);
  size_ = questionEnd_ = kHeader;
  reserveOpt_ = false;
  truncated_ = false;
}

bool ResponseWriter::addA(uint32_t address, uint32_t ttl) {
  if (!fits(16)) return false;
  putPointer(kHeader);  // the question's name
  put16(kTypeA);
  put16(kClassIn);
  put32(ttl);
  put16(4);
  put32(address);
  bump(6);
  return true;
}

bool ResponseWriter::addNs(uint32_t ttl) {
  // vm. NS localhost.
  static constexpr uint8_t kTarget[] = {9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0};
  if (!fits(12 + sizeof kTarget)) return false;
  putPointer(apexOffset_);
  put16(kTypeNs);
  put16(kClassIn);
  put32(ttl);
  put16(sizeof kTarget);
  std::memcpy(buf_ + size_, kTarget, sizeof kTarget);
  size_ += sizeof kTarget;
  bump(6);
  return true;
}

bool ResponseWriter::addSoa(uint32_t serial, uint32_t ttl, bool inAuthority) {
  // vm. SOA localhost. nobody.localhost. serial 3600 600 86400 ttl
  static constexpr uint8_t kNames[] = {9,   'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't',
                                       0,   6,   'n', 'o', 'b', 'o', 'd', 'y', 9,   'l',
                                       'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0};
  const size_t rdlength = sizeof kNames + 20;
  if (!fits(12 + rdlength)) return false;
  putPointer(apexOffset_);
  put16(kTypeSoa);
  put16(kClassIn);
  put32(ttl);
  put16(static_cast<uint16_t>(rdlength));
  std::memcpy(buf_ + size_, kNames, sizeof kNames);
  size_ += sizeof kNames;
  put32(serial);
  put32(3600);
  put32(600);
  put32(86400);
  put32(ttl);  // negative-caching TTL (RFC 2308)
  bump(inAuthority ? 8 : 6);
  return true;
}

void ResponseWriter::addOpt(uint16_t payload, bool badVersion) {
  buf_[size_++] = 0;  // root owner
  put16(kTypeOpt);
  put16(payload);
  put32(badVersion ? 0x01000000u : 0);  // extended rcode 1 << 4 = BADVERS (16), version 0
  put16(0);
  bump(10);
}

}  // namespace banger::dns
