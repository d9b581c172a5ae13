// /etc/banger/net.toml, the root-owned settings of the Net service. All keys optional.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "banger/ipv4.h"
#include "banger/names.h"

namespace banger::net {

struct NetConfig {
  std::string bridge = "banger0";
  Ipv4Network subnet = *Ipv4Network::parse("172.16.0.0/24");
  Ipv4 gateway = *Ipv4::parse("172.16.0.1");
  uint32_t poolSize = 2;          // idle TAPs kept warm per uid
  uint32_t maxLeasesPerUid = 64;  // beyond it AcquireLease answers Busy
  // Handed to guests when the host has no non-loopback resolver of its own.
  std::vector<std::string> fallbackNameservers = {"1.1.1.1", "9.9.9.9"};
  // Where resolved sends .vm queries: Net binds it and hands it to the routing owner's
  // banger-dns. Loopback, and a port below 1024 so that no other user can take it.
  Ipv4Endpoint dnsListen = *Ipv4Endpoint::parse(names::kDnsListenDefault);
};

// Throws banger::Error(InvalidArgument) naming the key.
NetConfig parseNetConfig(std::string_view text, const std::string& source);
// A missing file is the defaults.
NetConfig loadNetConfig(const std::filesystem::path& file);

}  // namespace banger::net
