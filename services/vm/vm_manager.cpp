#include "vm_manager.h"

#include "banger/errors.h"
#include "banger/options.h"
#include "banger/vm_spec.h"
#include "banger_build_config.h"
#include "spec.h"

namespace banger::vm {
namespace {
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
    VmSpec::fromVariants(spec, "spec");
    notSupportedYet("CreateVm", kLifecycle);
  });
}

std::tuple<VariantMap, std::map<std::string, std::string>> VmManager::ResolveSpec(
    const VariantMap& overrides) {
  return guard_("Vm1.Manager.ResolveSpec", [&] {
    const VmSpec flags = VmSpec::fromVariants(overrides, "overrides");
    auto [spec, provenance] = resolveSpec(flags, loadConfig(), host_->facts());
    return std::make_tuple(spec.toVariants(), provenance);
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
