#include "vm_manager.h"

#include "banger/errors.h"
#include "banger/options.h"
#include "banger_build_config.h"

namespace banger::vm {
namespace {
const std::vector<OptionKey> kSpecKeys = {
    {"name", "s"},       {"image", "s"},      {"kernel", "s"}, {"vcpus", "u"},
    {"memory_mib", "u"}, {"disk_bytes", "t"}, {"nat", "b"},    {"start", "b"},
};
constexpr const char* kLifecycle = "the VM lifecycle (machines, disks, Firecracker)";
}  // namespace

VmManager::VmManager(ServiceContext& context, UserPaths paths, std::unique_ptr<HostProbe> host)
    : AdaptorInterfaces(context.connection, kRootPath),
      guard_(context.guard),
      paths_(std::move(paths)),
      host_(std::move(host)),
      jobs_(context.connection, context.loop, context.pool, context.guard, kRootPath,
            managerJobSignals(*this)) {
  registerAdaptor();
}

VmManager::~VmManager() { unregisterAdaptor(); }

Config VmManager::loadConfig() const {
  return banger::loadConfig(paths_.configFile(), paths_.home);
}

std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> VmManager::CreateVm(const VariantMap& spec) {
  return guard_("Vm1.Manager.CreateVm", [&]() -> std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> {
    Options::parse(spec, kSpecKeys, "spec");
    notSupportedYet("CreateVm", kLifecycle);
  });
}

std::tuple<VariantMap, std::map<std::string, std::string>> VmManager::ResolveSpec(
    const VariantMap& overrides) {
  return guard_("Vm1.Manager.ResolveSpec", [&] {
    const Options flags = Options::parse(overrides, kSpecKeys, "overrides");
    const Config config = loadConfig();
    const VmDefaults defaults = resolveVmDefaults(config.vmDefaults, host_->facts());

    VariantMap spec;
    std::map<std::string, std::string> provenance;
    auto put = [&](const std::string& key, sdbus::Variant value, Provenance p) {
      spec[key] = std::move(value);
      provenance[key] = provenanceName(p);
    };
    auto sized = [&](const std::string& key, auto flag, auto resolved) {
      if (flag) {
        put(key, sdbus::Variant(*flag), Provenance::Flag);
      } else {
        put(key, sdbus::Variant(resolved.value), resolved.provenance);
      }
    };
    auto named = [&](const std::string& key, const std::optional<std::string>& flag,
                     const std::optional<std::string>& configured, const char* builtin) {
      if (flag) {
        put(key, sdbus::Variant(*flag), Provenance::Flag);
      } else if (configured) {
        put(key, sdbus::Variant(*configured), Provenance::Config);
      } else {
        put(key, sdbus::Variant(std::string(builtin)), Provenance::Builtin);
      }
    };
    if (auto name = flags.string("name")) put("name", sdbus::Variant(*name), Provenance::Flag);
    named("image", flags.string("image"), config.defaultImage, kBuiltinImage);
    named("kernel", flags.string("kernel"), config.defaultKernel, kBuiltinKernel);
    sized("vcpus", flags.uint32("vcpus"), defaults.vcpu);
    sized("memory_mib", flags.uint32("memory_mib"), defaults.memoryMib);
    sized("disk_bytes", flags.uint64("disk_bytes"), defaults.diskBytes);
    const auto nat = flags.boolean("nat");
    put("nat", sdbus::Variant(nat.value_or(false)), nat ? Provenance::Flag : Provenance::Builtin);
    const auto start = flags.boolean("start");
    put("start", sdbus::Variant(start.value_or(true)),
        start ? Provenance::Flag : Provenance::Builtin);
    return std::make_tuple(spec, provenance);
  });
}

sdbus::ObjectPath VmManager::FindMachine(const std::string& /*name*/) {
  return guard_("Vm1.Manager.FindMachine",
                [&]() -> sdbus::ObjectPath { notSupportedYet("FindMachine", kLifecycle); });
}

std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> VmManager::ListMachines() {
  return guard_("Vm1.Manager.ListMachines",
                [&]() -> std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> {
                  notSupportedYet("ListMachines", kLifecycle);
                });
}

std::vector<std::string> VmManager::Prune(const VariantMap& options) {
  return guard_("Vm1.Manager.Prune", [&]() -> std::vector<std::string> {
    Options::parse(options, {}, "options");
    notSupportedYet("Prune", kLifecycle);
  });
}

std::string VmManager::Version() {
  return guard_("Vm1.Manager.Version", [] { return std::string(BANGER_VERSION); });
}

std::string VmManager::DefaultImage() {
  return guard_("Vm1.Manager.DefaultImage",
                [&] { return loadConfig().defaultImage.value_or(kBuiltinImage); });
}

}  // namespace banger::vm
