#include "banger/ipv4.h"

#include <arpa/inet.h>

namespace banger {

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

namespace {
// An address, a separator, then a number of at most `width` digits from `low` to `high`
// ("10.0.0.0/24", "127.0.0.1:42"); digits only, no sign, no spaces.
std::optional<std::pair<Ipv4, unsigned>> addressAndNumber(std::string_view text, char separator,
                                                          size_t width, unsigned low,
                                                          unsigned high) {
  const auto at = text.rfind(separator);
  if (at == std::string_view::npos) return std::nullopt;
  const auto address = Ipv4::parse(text.substr(0, at));
  const std::string_view digits = text.substr(at + 1);
  if (!address || digits.empty() || digits.size() > width ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const unsigned long number = std::stoul(std::string(digits));
  if (number < low || number > high) return std::nullopt;
  return std::make_pair(*address, static_cast<unsigned>(number));
}
}  // namespace

std::optional<Ipv4Endpoint> Ipv4Endpoint::parse(std::string_view text) {
  const auto parsed = addressAndNumber(text, ':', 5, 1, 65535);
  if (!parsed) return std::nullopt;
  return Ipv4Endpoint{parsed->first, static_cast<uint16_t>(parsed->second)};
}

std::optional<Ipv4Network> Ipv4Network::parse(std::string_view text) {
  const auto parsed = addressAndNumber(text, '/', 2, 8, 30);
  if (!parsed) return std::nullopt;
  const auto& [address, prefix] = *parsed;
  Ipv4Network network{address, prefix};
  if ((address.value & ~network.mask()) != 0) return std::nullopt;
  return network;
}

std::string Ipv4Network::str() const { return base.str() + "/" + std::to_string(prefix); }

}  // namespace banger
