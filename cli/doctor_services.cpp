// doctor's checks that ask banger's services (and polkit) what they would do, without
// doing it: the defaults and where each came from, the default image, this user's right to
// Net's actions, and the routing of .vm.
#include <unistd.h>

#include "banger/errors.h"
#include "banger/size.h"
#include "banger/vm_spec.h"
#include "doctor.h"

namespace banger::cli {
namespace {

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

Check checkDefaultImage(Buses& buses) {
  std::string image;
  try {
    image = buses.vm().DefaultImage();
    buses.image().FindImage(image);
    return {Verdict::Pass, "default image", image + " (local)"};
  } catch (const sdbus::Error& e) {
    if (image.empty()) return {Verdict::Fail, "default image", e.getMessage()};
    if (e.getName() != "org.banger.Error.NotFound")
      return {Verdict::Fail, "default image", image + ": " + e.getMessage()};
  }
  try {
    for (const auto& entry : buses.image().Catalog())
      if (entry.get<0>() == image)
        return {Verdict::Pass, "default image",
                image + " (in the catalog; made on first use, or now: banger image pull " + image +
                    ")"};
  } catch (const sdbus::Error& e) {
    return {Verdict::Fail, "default image", e.getMessage()};
  }
  return {Verdict::Fail, "default image",
          image +
              " is neither local nor in the catalog: set default_image in config.toml to one "
              "of `banger image list` or `banger image catalog`"};
}

// polkit's answer for Net's lease action, asked for this process without interaction:
// what Net itself would hear when banger asks for a TAP.
Check checkAuthorised(Buses& buses) {
  constexpr const char* kAction = "org.banger.Net.manage-leases";
  if (geteuid() == 0)
    return {Verdict::Pass, "authorised", "root (Net asks polkit only for other users)"};
  try {
    auto authority = sdbus::createProxy(buses.system(), "org.freedesktop.PolicyKit1",
                                        "/org/freedesktop/PolicyKit1/Authority");
    const sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>> subject{
        "system-bus-name", {{"name", sdbus::Variant(buses.system().getUniqueName())}}};
    sdbus::Struct<bool, bool, std::map<std::string, std::string>> answer;
    authority->callMethod("CheckAuthorization")
        .onInterface("org.freedesktop.PolicyKit1.Authority")
        .withArguments(subject, std::string(kAction), std::map<std::string, std::string>{},
                       uint32_t{0}, std::string())
        .storeResultsTo(answer);
    if (answer.get<0>()) return {Verdict::Pass, "authorised", std::string(kAction) + ": yes"};
    return {Verdict::Fail, "authorised",
            std::string(kAction) + ": " + (answer.get<1>() ? "only after authentication" : "no") +
                "; join the banger group (sudo banger system install adds the user who runs "
                "it; or sudo usermod -aG banger $USER) and log in again"};
  } catch (const sdbus::Error& e) {
    return {Verdict::Fail, "authorised",
            "polkit did not answer on the system bus (" + e.getMessage() +
                "): apt install polkitd, then sudo banger system install"};
  }
}

Check checkResolver(Buses& buses) {
  try {
    if (buses.net().ResolverConfigured())
      return {Verdict::Pass, "dns routing",
              ".vm goes to banger's name server through systemd-resolved"};
  } catch (const sdbus::Error& e) {
    return {Verdict::Warn, "dns routing", e.getMessage()};
  }
  bool resolved = false;
  try {
    busDaemon(buses.system())
        ->callMethod("NameHasOwner")
        .onInterface(kBusDaemonInterface)
        .withArguments(std::string("org.freedesktop.resolve1"))
        .storeResultsTo(resolved);
  } catch (const sdbus::Error&) {
  }
  if (!resolved)
    return {Verdict::Warn, "dns routing",
            "systemd-resolved does not run, so NAME.vm resolves only by asking banger directly "
            "(dig @127.0.0.1 -p 42069 NAME.vm); banger vm ssh NAME works regardless"};
  return {Verdict::Warn, "dns routing",
          ".vm is not routed to banger yet: sudo banger system install (or banger-net's "
          "ConfigureResolver)"};
}

}  // namespace

std::vector<Check> serviceChecks(Buses& buses, bool vmAnswers, bool imageAnswers, bool netAnswers) {
  std::vector<Check> checks;
  if (vmAnswers) {  // the Vm service resolves the defaults and names the default image
    checks = checkDefaults(buses);
    if (imageAnswers) checks.push_back(checkDefaultImage(buses));
  }
  checks.push_back(checkAuthorised(buses));
  if (netAnswers) checks.push_back(checkResolver(buses));
  return checks;
}

}  // namespace banger::cli
