#include "doctor.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "banger/config.h"
#include "banger/errors.h"
#include "banger/files.h"
#include "banger/paths.h"
#include "banger/size.h"
#include "banger/text.h"
#include "job_watch.h"
#include "ssh_config_file.h"

namespace banger::cli {

std::string SystemHostInspector::machine() const {
  utsname u{};
  uname(&u);
  return u.machine;
}

int SystemHostInspector::kvmAccess(std::string& detail) const {
  if (access("/dev/kvm", R_OK | W_OK) == 0) return 0;
  const int error = errno;
  detail = std::strerror(error);
  return error;
}

std::string SystemHostInspector::findProgram(const std::string& name) const {
  const char* path = std::getenv("PATH");
  return findExecutable(name, path ? path : "/usr/bin:/bin");
}

std::string SystemHostInspector::configuredFirecracker(std::string& error) const {
  try {
    const auto paths = UserPaths::resolve(processEnvironment());
    return loadConfig(paths.configFile(), paths.home).firecrackerBin.value_or("");
  } catch (const std::exception& e) {
    error = e.what();
    return {};
  }
}

std::string SystemHostInspector::versionOf(const std::string& program) const {
  FILE* pipe = popen((shellQuote(program) + " --version 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return {};
  char line[256] = {};
  const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
  pclose(pipe);
  std::string first = read ? line : "";
  if (!first.empty() && first.back() == '\n') first.pop_back();
  return first;
}

std::uint64_t SystemHostInspector::freeBytes(const std::filesystem::path& path) const {
  std::filesystem::path at = path;
  std::error_code ec;
  while (!std::filesystem::exists(at, ec) && at.has_parent_path() && at != at.parent_path())
    at = at.parent_path();
  struct statvfs fs {};
  if (statvfs(at.c_str(), &fs) != 0) return 0;
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

namespace {
Check checkArch(const HostInspector& host) {
  const std::string m = host.machine();
  if (m == "x86_64") return {Verdict::Pass, "architecture", "x86_64"};
  return {Verdict::Fail, "architecture", m + " is not supported; banger runs on x86_64 hosts only"};
}

Check checkKvm(const HostInspector& host) {
  std::string detail;
  const int error = host.kvmAccess(detail);
  if (error == 0) return {Verdict::Pass, "/dev/kvm", "readable and writable"};
  if (error == ENOENT) {
    return {Verdict::Fail, "/dev/kvm",
            "missing: enable virtualisation in the firmware and load kvm_intel or kvm_amd"};
  }
  return {
      Verdict::Fail, "/dev/kvm",
      detail + ": add yourself to the 'kvm' group (sudo usermod -aG kvm $USER) and log in again"};
}

// banger speaks Firecracker's v1.16 API; another version may refuse its requests.
Check withVersion(const HostInspector& host, const std::string& program, const std::string& where) {
  const std::string version = host.versionOf(program);
  if (version.rfind("Firecracker v1.16", 0) == 0)
    return {Verdict::Pass, "firecracker", where + ", " + version.substr(12)};
  if (version.rfind("Firecracker v", 0) == 0)
    return {Verdict::Warn, "firecracker",
            where + ", " + version.substr(12) +
                ": banger speaks the v1.16 API; install v1.16.1 if VMs fail to boot"};
  return {Verdict::Warn, "firecracker",
          where + " does not say it is Firecracker (--version: " +
              (version.empty() ? "nothing" : "'" + version + "'") + ")"};
}

Check checkFirecracker(const HostInspector& host) {
  std::string configError;
  const std::string configured = host.configuredFirecracker(configError);
  if (!configError.empty()) return {Verdict::Fail, "firecracker", "config.toml: " + configError};
  if (!configured.empty()) {
    if (access(configured.c_str(), X_OK) == 0)
      return withVersion(host, configured, configured + " (firecracker_bin)");
    return {
        Verdict::Fail, "firecracker",
        "firecracker_bin = " + configured + " is not an executable file; fix it in config.toml"};
  }
  const std::string found = host.findProgram("firecracker");
  if (!found.empty()) return withVersion(host, found, found);
  return {
      Verdict::Fail, "firecracker",
      "not found on PATH and firecracker_bin is not set; install Firecracker (v1.16) and put it "
      "on PATH, or set firecracker_bin in ~/.config/banger/config.toml"};
}

Check checkFreeSpace(const HostInspector& host, const std::filesystem::path& stateDir) {
  const std::uint64_t free = host.freeBytes(stateDir);
  const std::string amount = humanBytes(free) + " free under " + stateDir.string();
  if (free < (2ull << 30))
    return {Verdict::Fail, "disk space",
            amount + ": a VM's disks and an image need a few GiB; free some space there"};
  if (free < (10ull << 30))
    return {Verdict::Warn, "disk space", amount + ": enough for a few VMs, not for many images"};
  return {Verdict::Pass, "disk space", amount};
}

Check checkSshConfig(const UserPaths& paths) {
  const auto config = readTextFileIfExists(paths.home / ".ssh" / "config");
  if (config && config->find(kIncludeBegin) != std::string::npos)
    return {Verdict::Pass, "ssh-config", "~/.ssh/config includes banger's ssh_config"};
  return {Verdict::Warn, "ssh-config",
          "plain `ssh NAME.vm` needs banger's ssh_config: banger ssh-config --install "
          "(`banger vm ssh NAME` works without it)"};
}

Check checkService(Buses& buses, const ServiceAddress& service) {
  const std::string name = service.busName;
  try {
    ping(buses, service);
    return {Verdict::Pass, service.label, name + " answers"};
  } catch (const sdbus::Error& e) {
    return {Verdict::Fail, service.label,
            name + " is not reachable: " + e.getMessage() +
                " (is banger installed? see `banger system status` and the service's journal)"};
  }
}

}  // namespace

std::vector<Check> runDoctor(const HostInspector& host, Buses& buses) {
  const UserPaths paths = UserPaths::resolve(processEnvironment());
  std::vector<Check> checks{checkArch(host), checkKvm(host), checkFirecracker(host),
                            checkFreeSpace(host, paths.stateDir), checkSshConfig(paths)};
  std::map<std::string, bool> answers;
  for (const auto& service : kServices) {
    checks.push_back(checkService(buses, service));
    answers[service.busName] = checks.back().verdict == Verdict::Pass;
  }
  for (auto& c : serviceChecks(buses, answers[names::kVmBus], answers[names::kImageBus],
                               answers[names::kNetBus]))
    checks.push_back(std::move(c));
  return checks;
}

int printDoctor(const std::vector<Check>& checks, std::ostream& out) {
  int failures = 0;
  for (const auto& c : checks) {
    const char* word = c.verdict == Verdict::Pass   ? "pass"
                       : c.verdict == Verdict::Warn ? "warn"
                                                    : "FAIL";
    out << word << "  " << c.name << ": " << c.reason << "\n";
    failures += c.verdict == Verdict::Fail;
  }
  out << (failures ? std::to_string(failures) + " check(s) failed\n" : "all checks passed\n");
  return failures ? 1 : 0;
}

}  // namespace banger::cli
