#include "doctor.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "banger/config.h"
#include "banger/errors.h"
#include "banger/files.h"
#include "banger/paths.h"
#include "banger/size.h"
#include "banger/vm_spec.h"

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

Check checkFirecracker(const HostInspector& host) {
  std::string configError;
  const std::string configured = host.configuredFirecracker(configError);
  if (!configError.empty()) return {Verdict::Fail, "firecracker", "config.toml: " + configError};
  if (!configured.empty()) {
    if (access(configured.c_str(), X_OK) == 0)
      return {Verdict::Pass, "firecracker", configured + " (firecracker_bin)"};
    return {
        Verdict::Fail, "firecracker",
        "firecracker_bin = " + configured + " is not an executable file; fix it in config.toml"};
  }
  const std::string found = host.findProgram("firecracker");
  if (!found.empty()) return {Verdict::Pass, "firecracker", found};
  return {
      Verdict::Fail, "firecracker",
      "not found on PATH and firecracker_bin is not set; install Firecracker (v1.16) and put it "
      "on PATH, or set firecracker_bin in ~/.config/banger/config.toml"};
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

std::vector<Check> checkDefaults(Buses& buses) {
  try {
    using namespace spec_keys;
    auto [resolved, provenance] = buses.vm().ResolveSpec({});
    const VmSpec spec = VmSpec::fromVariants(resolved, "the Vm service's spec");
    return {
        {Verdict::Pass, "vm_defaults.vcpu",
         std::to_string(spec.vcpus.value_or(0)) + " (" + provenance[kVcpus] + ")"},
        {Verdict::Pass, "vm_defaults.memory_mib",
         std::to_string(spec.memoryMib.value_or(0)) + " (" + provenance[kMemoryMib] + ")"},
        {Verdict::Pass, "vm_defaults.disk_size",
         formatSize(spec.diskBytes.value_or(0)) + " (" + provenance[kDiskBytes] + ")"},
    };
  } catch (const sdbus::Error& e) {
    return {{Verdict::Fail, "vm_defaults", e.getMessage()}};
  } catch (const Error& e) {  // the service's spec does not parse: a mismatched version
    return {{Verdict::Fail, "vm_defaults", e.what()}};
  }
}
}  // namespace

std::vector<Check> runDoctor(const HostInspector& host, Buses& buses) {
  std::vector<Check> checks{checkArch(host), checkKvm(host), checkFirecracker(host)};
  bool vmAnswers = false;
  for (const auto& service : kServices) {
    checks.push_back(checkService(buses, service));
    if (std::string_view(service.busName) == names::kVmBus)
      vmAnswers = checks.back().verdict == Verdict::Pass;
  }
  if (vmAnswers) {  // the Vm service resolves the defaults
    for (auto& c : checkDefaults(buses)) checks.push_back(std::move(c));
  }
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
