// The .vm zone: one A record per running machine, answered from a query packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace banger::dns {

inline constexpr uint32_t kRecordTtl = 5;      // seconds; machines come and go
inline constexpr uint16_t kOurPayload = 1232;  // EDNS payload we advertise (DNS flag day 2020)

class Zone {
 public:
  // Name is a VM name (one label, any case); false if nothing changed.
  bool set(const std::string& name, uint32_t address);
  bool remove(const std::string& name);
  void clear();
  // Takes `other`'s records, bumping the serial once.
  void replace(const Zone& other);
  std::optional<uint32_t> lookup(const std::string& lowerLabel) const;
  size_t size() const { return records_.size(); }
  uint32_t serial() const { return serial_; }
  // (name, dotted address) sorted by name.
  std::vector<std::pair<std::string, std::string>> records() const;

 private:
  std::unordered_map<std::string, uint32_t> records_;
  uint32_t serial_ = 1;
};

// Writes the reply to a query into `out`; returns its size, or 0 when the packet
// deserves no reply. `out` needs room for kMaxMessage bytes with `tcp` (no UDP size
// limit), for kOurPayload without.
size_t answer(const uint8_t* packet, size_t size, const Zone& zone, uint8_t* out, bool tcp);

}  // namespace banger::dns
