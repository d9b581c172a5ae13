// A DNS query packet for tests: one question, optionally an OPT record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace banger::test {

inline std::vector<uint8_t> dnsQuery(const std::string& name, uint16_t qtype, int ednsPayload = -1,
                                     uint8_t ednsVersion = 0, uint16_t id = 0x1234) {
  std::vector<uint8_t> p = {static_cast<uint8_t>(id >> 8),
                            static_cast<uint8_t>(id),
                            0x01,
                            0x00,
                            0,
                            1,
                            0,
                            0,
                            0,
                            0,
                            0,
                            static_cast<uint8_t>(ednsPayload >= 0 ? 1 : 0)};
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    p.push_back(static_cast<uint8_t>(dot - start));
    p.insert(p.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  p.push_back(0);
  p.insert(p.end(), {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
  if (ednsPayload >= 0) {
    p.insert(p.end(), {0, 0, 41, static_cast<uint8_t>(ednsPayload >> 8),
                       static_cast<uint8_t>(ednsPayload), 0, ednsVersion, 0, 0, 0, 0});
  }
  return p;
}

}  // namespace banger::test
