#include "unit_credentials.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <stdexcept>

#include "harness.h"

namespace banger::test {
namespace {

// linux/capability.h, in order: the index is the capability's number.
constexpr std::array<const char*, 41> kCapabilityNames = {"chown",
                                                          "dac_override",
                                                          "dac_read_search",
                                                          "fowner",
                                                          "fsetid",
                                                          "kill",
                                                          "setgid",
                                                          "setuid",
                                                          "setpcap",
                                                          "linux_immutable",
                                                          "net_bind_service",
                                                          "net_broadcast",
                                                          "net_admin",
                                                          "net_raw",
                                                          "ipc_lock",
                                                          "ipc_owner",
                                                          "sys_module",
                                                          "sys_rawio",
                                                          "sys_chroot",
                                                          "sys_ptrace",
                                                          "sys_pacct",
                                                          "sys_admin",
                                                          "sys_boot",
                                                          "sys_nice",
                                                          "sys_resource",
                                                          "sys_time",
                                                          "sys_tty_config",
                                                          "mknod",
                                                          "lease",
                                                          "audit_write",
                                                          "audit_control",
                                                          "setfcap",
                                                          "mac_override",
                                                          "mac_admin",
                                                          "syslog",
                                                          "wake_alarm",
                                                          "block_suspend",
                                                          "audit_read",
                                                          "perfmon",
                                                          "bpf",
                                                          "checkpoint_restore"};

std::string lowered(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::set<std::string> capabilityWords(const std::string& value, const std::string& key) {
  std::set<std::string> out;
  std::istringstream words(value);
  std::string word;
  while (words >> word) {
    if (word[0] == '~') throw std::runtime_error(key + ": inverted lists are not modelled");
    std::string name = lowered(word);
    if (name.rfind("cap_", 0) == 0) name = name.substr(4);
    if (std::find(kCapabilityNames.begin(), kCapabilityNames.end(), name) ==
        kCapabilityNames.end()) {
      throw std::runtime_error(key + ": unknown capability " + word);
    }
    out.insert(name);
  }
  return out;
}

std::string capList(const std::set<std::string>& caps) {
  std::string out = "-all";
  for (const auto& c : caps) out += ",+" + c;
  return out;
}

}  // namespace

UnitCredentials UnitCredentials::parse(const std::string& unitText) {
  UnitCredentials c;
  std::istringstream lines(unitText);
  std::string line;
  bool inService = false;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      inService = line == "[Service]";
      continue;
    }
    const auto eq = line.find('=');
    if (!inService || eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    // Repeated lines add to the list, as systemd merges them.
    if (key == "CapabilityBoundingSet") {
      c.boundingSet.merge(capabilityWords(value, key));
    } else if (key == "AmbientCapabilities") {
      c.ambient.merge(capabilityWords(value, key));
    } else if (key == "SecureBits") {
      std::istringstream words(value);
      std::string word;
      while (words >> word) c.secureBits.insert(word);
    } else if (key == "NoNewPrivileges") {
      c.noNewPrivileges = value == "yes" || value == "true" || value == "1";
    }
  }
  return c;
}

UnitCredentials UnitCredentials::load(const std::filesystem::path& unitFile) {
  return parse(readFile(unitFile));
}

std::vector<std::string> UnitCredentials::setprivPrefix() const {
  std::vector<std::string> argv{"/usr/bin/setpriv", "--bounding-set", capList(boundingSet)};
  // An ambient capability must also be inheritable (and is then permitted and effective
  // after exec): the same rule systemd follows for AmbientCapabilities=.
  argv.insert(argv.end(), {"--inh-caps", capList(ambient), "--ambient-caps", capList(ambient)});
  if (!secureBits.empty()) {
    std::string bits;
    for (const auto& b : secureBits) {
      std::string name = b;
      std::replace(name.begin(), name.end(), '-', '_');
      bits += (bits.empty() ? "+" : ",+") + name;
    }
    argv.insert(argv.end(), {"--securebits", bits});
  }
  if (noNewPrivileges) argv.push_back("--no-new-privs");
  argv.push_back("--");
  return argv;
}

uint64_t UnitCredentials::mask(const std::set<std::string>& capabilities) {
  uint64_t out = 0;
  for (const auto& c : capabilities) {
    const auto it = std::find(kCapabilityNames.begin(), kCapabilityNames.end(), c);
    out |= uint64_t{1} << (it - kCapabilityNames.begin());
  }
  return out;
}

std::filesystem::path netUnitTemplate() {
  return std::filesystem::path(BANGER_SOURCE_DIR) / "units/banger-net.service.in";
}

}  // namespace banger::test
