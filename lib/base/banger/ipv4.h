// IPv4 addresses and networks as the Net service uses them (host byte order inside).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace banger {

struct Ipv4 {
  uint32_t value = 0;  // host byte order
  static std::optional<Ipv4> parse(std::string_view text);
  std::string str() const;
  bool operator==(const Ipv4&) const = default;
  bool isLoopback() const { return (value >> 24) == 127; }
};

// An address and port, "127.0.0.1:42".
struct Ipv4Endpoint {
  Ipv4 address;
  uint16_t port = 0;
  static std::optional<Ipv4Endpoint> parse(std::string_view text);
  std::string str() const { return address.str() + ":" + std::to_string(port); }
};

struct Ipv4Network {
  Ipv4 base;
  unsigned prefix = 24;

  // "172.16.0.0/24"; host bits must be zero. Prefixes from /8 to /30.
  static std::optional<Ipv4Network> parse(std::string_view text);
  std::string str() const;
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool contains(Ipv4 a) const { return (a.value & mask()) == base.value; }
  Ipv4 broadcast() const { return {base.value | ~mask()}; }
  Ipv4 firstHost() const { return {base.value + 1}; }
  // Usable host addresses: everything but the network and broadcast addresses.
  uint32_t hostCount() const { return (~mask()) - 1; }
};

}  // namespace banger
