#include "ipv4.h"

#include <arpa/inet.h>

namespace banger::net {

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  in_addr addr{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &addr) != 1) return std::nullopt;
  return Ipv4{ntohl(addr.s_addr)};
}

std::string Ipv4::str() const {
  in_addr addr{htonl(value)};
  char buffer[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, buffer, sizeof buffer);
  return buffer;
}

std::optional<Ipv4Endpoint> Ipv4Endpoint::parse(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto address = Ipv4::parse(text.substr(0, colon));
  const std::string_view digits = text.substr(colon + 1);
  if (!address || digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const unsigned long port = std::stoul(std::string(digits));
  if (port == 0 || port > 65535) return std::nullopt;
  return Ipv4Endpoint{*address, static_cast<uint16_t>(port)};
}

std::optional<Ipv4Network> Ipv4Network::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto address = Ipv4::parse(text.substr(0, slash));
  const std::string_view bits = text.substr(slash + 1);
  if (!address || bits.empty() || bits.size() > 2 ||
      bits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const unsigned prefix = static_cast<unsigned>(std::stoul(std::string(bits)));
  if (prefix < 8 || prefix > 30) return std::nullopt;
  Ipv4Network network{*address, prefix};
  if ((address->value & ~network.mask()) != 0) return std::nullopt;
  return network;
}

std::string Ipv4Network::str() const { return base.str() + "/" + std::to_string(prefix); }

}  // namespace banger::net
