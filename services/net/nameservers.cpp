#include "nameservers.h"

#include <algorithm>
#include <sstream>

#include "banger/errors.h"
#include "banger/files.h"
#include "banger/ipv4.h"

namespace banger::net {

std::vector<std::string> parseResolvConf(std::string_view text) {
  std::vector<std::string> servers;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if (!(words >> keyword >> address) || keyword != "nameserver") continue;
    const auto ip = Ipv4::parse(address);
    if (!ip || ip->isLoopback() || ip->value == 0) continue;
    if (std::find(servers.begin(), servers.end(), address) == servers.end()) {
      servers.push_back(address);
    }
  }
  return servers;
}

namespace {
// An unreadable resolv.conf is as good as none: the next source is tried.
std::vector<std::string> fromFile(const char* path) {
  try {
    const auto text = readTextFileIfExists(path);
    return text ? parseResolvConf(*text) : std::vector<std::string>{};
  } catch (const Error&) {
    return {};
  }
}
}  // namespace

std::vector<std::string> hostNameservers(const std::vector<std::string>& fallback) {
  for (const char* path : {"/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"}) {
    auto servers = fromFile(path);
    if (!servers.empty()) return servers;
  }
  return fallback;
}

}  // namespace banger::net
