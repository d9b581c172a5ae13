// The host's upstream resolvers, as guests should be told about them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace banger::net {

// The non-loopback IPv4 "nameserver" entries of a resolv.conf text, in order, unique.
std::vector<std::string> parseResolvConf(std::string_view text);

// /etc/resolv.conf; if it only has loopback servers (systemd-resolved's stub), the
// upstream list resolved keeps in /run/systemd/resolve/resolv.conf; else `fallback`.
std::vector<std::string> hostNameservers(const std::vector<std::string>& fallback);

}  // namespace banger::net
