// The .vm server's answers, packet in, packet out, including hostile packets.
#include <gtest/gtest.h>

#include <vector>

#include "banger/ipv4.h"
#include "dns_message.h"
#include "dns_query.h"
#include "zone.h"

using namespace banger::dns;
using banger::Ipv4;

namespace {

std::vector<uint8_t> query(const std::string& name, uint16_t qtype, int ednsPayload = -1,
                           uint8_t ednsVersion = 0) {
  return banger::test::dnsQuery(name, qtype, ednsPayload, ednsVersion);
}

struct Reply {
  size_t size = 0;
  std::vector<uint8_t> bytes;
  uint16_t id() const { return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]); }
  int rcode() const { return bytes[3] & 0x0f; }
  bool aa() const { return bytes[2] & 0x04; }
  bool tc() const { return bytes[2] & 0x02; }
  bool qr() const { return bytes[2] & 0x80; }
  int count(int section) const { return bytes[4 + 2 * section] << 8 | bytes[5 + 2 * section]; }
  int answers() const { return count(1); }
  int authority() const { return count(2); }
  int additional() const { return count(3); }
};

Reply ask(const std::vector<uint8_t>& packet, const Zone& zone, bool tcp = false) {
  std::vector<uint8_t> out(kMaxMessage);
  Reply r;
  r.size = answer(packet.data(), packet.size(), zone, out.data(), tcp);
  out.resize(r.size);
  r.bytes = out;
  return r;
}

Zone sampleZone() {
  Zone z;
  z.set("web", Ipv4::parse("172.16.0.5")->value);
  z.set("db", Ipv4::parse("172.16.0.6")->value);
  return z;
}

// The last 4 bytes of a reply with one A record and no OPT are its address.
std::string lastAddress(const Reply& r) {
  const auto* b = r.bytes.data() + r.size - 4;
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
         std::to_string(b[3]);
}

TEST(DnsAnswer, ARecordForARunningMachineInAnyCase) {
  const Zone zone = sampleZone();
  for (const char* name : {"web.vm", "WEB.VM", "wEb.Vm"}) {
    const Reply r = ask(query(name, kTypeA), zone);
    ASSERT_GT(r.size, 12U) << name;
    EXPECT_TRUE(r.qr());
    EXPECT_TRUE(r.aa());
    EXPECT_EQ(r.id(), 0x1234);
    EXPECT_EQ(r.rcode(), 0);
    EXPECT_EQ(r.answers(), 1);
    EXPECT_EQ(lastAddress(r), "172.16.0.5");
  }
  // The question is echoed as asked, case included.
  const auto q = query("WEB.vm", kTypeA);
  const Reply r = ask(q, zone);
  EXPECT_TRUE(std::equal(q.begin() + 12, q.end(), r.bytes.begin() + 12));
}

TEST(DnsAnswer, UnknownNamesAreNxdomainWithSoa) {
  const Zone zone = sampleZone();
  for (const char* name : {"nope.vm", "a.web.vm"}) {
    const Reply r = ask(query(name, kTypeA), zone);
    EXPECT_EQ(r.rcode(), 3) << name;
    EXPECT_TRUE(r.aa());
    EXPECT_EQ(r.answers(), 0);
    EXPECT_EQ(r.authority(), 1);
  }
}

TEST(DnsAnswer, OtherTypesOfExistingNamesAreNodata) {
  const Reply r = ask(query("web.vm", 28 /* AAAA */), sampleZone());
  EXPECT_EQ(r.rcode(), 0);
  EXPECT_EQ(r.answers(), 0);
  EXPECT_EQ(r.authority(), 1);
}

TEST(DnsAnswer, ApexHasSoaAndNs) {
  const Zone zone = sampleZone();
  Reply r = ask(query("vm", kTypeSoa), zone);
  EXPECT_EQ(r.rcode(), 0);
  EXPECT_EQ(r.answers(), 1);
  r = ask(query("VM", kTypeNs), zone);
  EXPECT_EQ(r.answers(), 1);
  r = ask(query("vm", kTypeAny), zone);
  EXPECT_EQ(r.answers(), 2);
  r = ask(query("vm", kTypeA), zone);
  EXPECT_EQ(r.answers(), 0);
  EXPECT_EQ(r.authority(), 1);
}

TEST(DnsAnswer, OutsideTheZoneIsRefused) {
  for (const char* name : {"example.com", "vm.example", "", "xvm"}) {
    const Reply r = ask(query(name, kTypeA), sampleZone());
    EXPECT_EQ(r.rcode(), 5) << name;
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.answers(), 0);
  }
}

TEST(DnsAnswer, EdnsIsEchoedAndBadVersionAnswered) {
  Reply r = ask(query("web.vm", kTypeA, 4096), sampleZone());
  EXPECT_EQ(r.answers(), 1);
  EXPECT_EQ(r.additional(), 1);
  const uint8_t* opt = r.bytes.data() + r.size - 11;
  EXPECT_EQ(opt[0], 0);
  EXPECT_EQ(opt[2], 41);
  EXPECT_EQ(opt[3] << 8 | opt[4], kOurPayload);
  r = ask(query("web.vm", kTypeA, 4096, 1), sampleZone());
  EXPECT_EQ(r.answers(), 0);
  EXPECT_EQ(r.bytes[r.size - 11 + 5], 1) << "extended rcode BADVERS";
}

TEST(DnsAnswer, RepliesStayWithinTheUdpLimit) {
  // The longest possible question with an NXDOMAIN + SOA reply still fits 512 bytes.
  std::string name;
  for (int i = 0; i < 4; ++i) name += std::string(61, 'a') + ".";
  name += "bb.vm";  // 4*62 + 3 + 3 + 1 = 255 bytes on the wire
  const Reply r = ask(query(name, kTypeA), sampleZone());
  EXPECT_EQ(r.rcode(), 3);
  EXPECT_LE(r.size, 512U);
  EXPECT_FALSE(r.tc());
}

TEST(ResponseWriter, WhatDoesNotFitIsDroppedWithTcAndOptKept) {
  const auto packet = query("web.vm", kTypeA, 4096);
  Query q;
  ASSERT_EQ(parseQuery(packet.data(), packet.size(), q), ParseResult::Ok);
  std::vector<uint8_t> out(kMaxMessage);
  // Room for the question, one A record and the OPT, not for a second record.
  ResponseWriter w(out.data(), q.questionEnd + 16 + 11 + 8);
  w.begin(packet.data(), q, Rcode::NoError, true);
  EXPECT_TRUE(w.addA(1, 5));
  EXPECT_FALSE(w.addA(2, 5));
  EXPECT_TRUE(w.truncated());
  w.addOpt(kOurPayload, false);
  EXPECT_EQ(w.size(), q.questionEnd + 11);
  EXPECT_TRUE(out[2] & 0x02) << "TC";
  EXPECT_EQ(out[7], 0) << "no answers left";
  EXPECT_EQ(out[11], 1) << "OPT still there";
}

TEST(DnsAnswer, ResponsesAndTooShortPacketsGetNoReply) {
  EXPECT_EQ(ask({}, sampleZone()).size, 0U);
  EXPECT_EQ(ask({0x12, 0x34, 0x01}, sampleZone()).size, 0U);
  auto response = query("web.vm", kTypeA);
  response[2] |= 0x80;
  EXPECT_EQ(ask(response, sampleZone()).size, 0U);
}

TEST(DnsAnswer, MalformedQuestionsAreFormerr) {
  const Zone zone = sampleZone();
  auto formerr = [&](std::vector<uint8_t> p, const char* what) {
    const Reply r = ask(p, zone);
    ASSERT_EQ(r.size, 12U) << what;
    EXPECT_EQ(r.rcode(), 1) << what;
    EXPECT_EQ(r.id(), 0x1234) << what;
  };
  auto p = query("web.vm", kTypeA);
  p.resize(p.size() - 2);
  formerr(p, "truncated question");
  p = query("web.vm", kTypeA);
  p[5] = 0;
  formerr(p, "QDCOUNT 0");
  p[5] = 2;
  formerr(p, "QDCOUNT 2");
  p = query("web.vm", kTypeA);
  p[12] = 0xC0;
  p[13] = 12;  // a pointer to itself: a loop
  formerr(p, "compression pointer");
  formerr(query(std::string(64, 'a') + ".vm", kTypeA), "label of 64");
  std::string longName;
  for (int i = 0; i < 5; ++i) longName += std::string(60, 'a') + ".";
  formerr(query(longName + "vm", kTypeA), "name over 255");
  p = query("web.vm", kTypeA);
  p.push_back(0);
  formerr(p, "trailing garbage");
  p = query("web.vm", kTypeA, 1232);
  p[11] = 2;
  p.insert(p.end(), {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0});
  formerr(p, "two OPT records");
}

TEST(DnsAnswer, OtherOpcodesAreNotImplemented) {
  auto p = query("web.vm", kTypeA);
  p[2] = 0x28;  // opcode 5 (UPDATE)
  const Reply r = ask(p, sampleZone());
  EXPECT_EQ(r.rcode(), 4);
}

TEST(Zone, SerialChangesOnlyWithTheData) {
  Zone z;
  const auto s0 = z.serial();
  EXPECT_TRUE(z.set("Web", 1));
  EXPECT_FALSE(z.set("web", 1));
  EXPECT_EQ(z.serial(), s0 + 1);
  EXPECT_TRUE(z.set("web", 2));
  EXPECT_EQ(z.lookup("web"), 2U);
  EXPECT_TRUE(z.remove("WEB"));
  EXPECT_FALSE(z.remove("web"));
  EXPECT_EQ(z.size(), 0U);
}

}  // namespace
