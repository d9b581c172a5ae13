// /org/banger/Vm: org.banger.Vm1.Manager + ObjectManager.
#pragma once

#include <memory>

#include "banger/daemon.h"
#include "banger/job.h"
#include "banger/names.h"
#include "banger/options.h"
#include "banger/paths.h"
#include "org.banger.Vm1.Manager_adaptor.h"
#include "vm_defaults.h"

namespace banger::vm {

inline constexpr const char* kBusName = names::kVmBus;
inline constexpr const char* kRootPath = names::kVmPath;

class VmManager final
    : public sdbus::AdaptorInterfaces<org::banger::Vm1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor>,
      public Service {
 public:
  VmManager(ServiceContext& context, UserPaths paths, std::unique_ptr<HostProbe> host);
  ~VmManager() override;

  bool busy() const override { return jobs_.count() > 0; }

 private:
  std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> CreateVm(const VariantMap& spec) override;
  std::tuple<VariantMap, std::map<std::string, std::string>> ResolveSpec(
      const VariantMap& overrides) override;
  sdbus::ObjectPath FindMachine(const std::string& name) override;
  std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> ListMachines() override;
  std::vector<std::string> Prune(const VariantMap& options) override;
  std::string Version() override;
  std::string DefaultImage() override;

  Config loadConfig() const;

  CallGuard& guard_;
  UserPaths paths_;
  std::unique_ptr<HostProbe> host_;
  JobManager jobs_;
};

}  // namespace banger::vm
