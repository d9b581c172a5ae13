#include "zone.h"

#include <algorithm>

#include "banger/ipv4.h"
#include "banger/text.h"
#include "dns_message.h"

namespace banger::dns {
bool Zone::set(const std::string& name, uint32_t address) {
  auto [it, inserted] = records_.try_emplace(asciiLower(name), address);
  if (!inserted && it->second == address) return false;
  it->second = address;
  ++serial_;
  return true;
}

bool Zone::remove(const std::string& name) {
  if (records_.erase(asciiLower(name)) == 0) return false;
  ++serial_;
  return true;
}

void Zone::clear() {
  if (records_.empty()) return;
  records_.clear();
  ++serial_;
}

void Zone::replace(const Zone& other) {
  records_ = other.records_;
  ++serial_;
}

std::optional<uint32_t> Zone::lookup(const std::string& lowerLabel) const {
  auto it = records_.find(lowerLabel);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> Zone::records() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, address] : records_) out.emplace_back(name, Ipv4{address}.str());
  std::sort(out.begin(), out.end());
  return out;
}

size_t answer(const uint8_t* packet, size_t size, const Zone& zone, uint8_t* out, bool tcp) {
  Query q;
  switch (parseQuery(packet, size, q)) {
    case ParseResult::Drop:
      return 0;
    case ParseResult::FormErr:
    case ParseResult::NotImp: {
      ResponseWriter w(out, kMaxMessage);
      w.headerOnly(q.id, q.opcode, q.recursionDesired,
                   q.opcode != 0 ? Rcode::NotImp : Rcode::FormErr);
      return w.size();
    }
    case ParseResult::Ok:
      break;
  }
  // UDP: 512 bytes, or what EDNS allows (never below 512, never above what we offer).
  const size_t limit = tcp      ? kMaxMessage
                       : q.edns ? std::clamp<size_t>(q.ednsPayload, 512, kOurPayload)
                                : 512;
  ResponseWriter w(out, limit);
  const bool classOk = q.qclass == kClassIn || q.qclass == kClassAny;
  const bool transfer = q.qtype == kTypeAxfr || q.qtype == kTypeIxfr;  // not offered
  if (!q.inZone || !classOk || transfer) {
    w.begin(packet, q, Rcode::Refused, false);
  } else if (q.edns && q.ednsVersion != 0) {
    w.begin(packet, q, Rcode::NoError, true);
    w.addOpt(kOurPayload, true);
    return w.size();
  } else if (q.labelCount == 1) {  // the apex, vm.
    w.begin(packet, q, Rcode::NoError, true);
    if (q.qtype == kTypeSoa || q.qtype == kTypeAny) w.addSoa(zone.serial(), kRecordTtl, false);
    if (q.qtype == kTypeNs || q.qtype == kTypeAny) w.addNs(kRecordTtl);
    if (q.qtype != kTypeSoa && q.qtype != kTypeNs && q.qtype != kTypeAny) {
      w.addSoa(zone.serial(), kRecordTtl, true);  // NODATA
    }
  } else {
    const auto address = q.labelCount == 2 ? zone.lookup(q.firstLabel) : std::nullopt;
    if (!address) {
      w.begin(packet, q, Rcode::NxDomain, true);
      w.addSoa(zone.serial(), kRecordTtl, true);
    } else {
      w.begin(packet, q, Rcode::NoError, true);
      if (q.qtype == kTypeA || q.qtype == kTypeAny) {
        w.addA(*address, kRecordTtl);
      } else {
        w.addSoa(zone.serial(), kRecordTtl, true);  // NODATA
      }
    }
  }
  if (q.edns) w.addOpt(kOurPayload, false);
  return w.size();
}

}  // namespace banger::dns
