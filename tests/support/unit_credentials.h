// The credentials a systemd unit gives its process (CapabilityBoundingSet=,
// AmbientCapabilities=, SecureBits=, NoNewPrivileges=), read from the unit file and
// applied with setpriv, so tests run a daemon exactly as its unit would and not as an
// all-powerful root. Only what these four settings mean is modelled.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace banger::test {

struct UnitCredentials {
  std::set<std::string> boundingSet;  // lower-case without CAP_: "net_admin"
  std::set<std::string> ambient;
  std::set<std::string> secureBits;  // systemd spelling: "noroot", "noroot-locked"
  bool noNewPrivileges = false;

  static UnitCredentials parse(const std::string& unitText);
  static UnitCredentials load(const std::filesystem::path& unitFile);

  // setpriv ... -- : prepend to a command line.
  std::vector<std::string> setprivPrefix() const;
  // The capability mask these names make, as /proc/PID/status prints it.
  static uint64_t mask(const std::set<std::string>& capabilities);
};

// The unit file of the Net service in the source tree.
std::filesystem::path netUnitTemplate();

}  // namespace banger::test
