// banger-vm: the user's VMs on the session bus. Everything lives in the library.
#include "banger/daemon.h"
#include "vm_manager.h"

namespace banger::xml {
extern const std::string_view vm_interfaces;
}

int main(int argc, char** argv) {
  using namespace banger;
  DaemonSpec spec{"banger-vm", vm::kBusName, BusKind::User, xml::vm_interfaces,
                  "banger's VM service (org.banger.Vm on the session bus)"};
  return runDaemon(argc, argv, spec, [](ServiceContext& context) {
    return std::make_unique<vm::VmManager>(context, UserPaths::resolve(processEnvironment()),
                                           std::make_unique<SystemHostProbe>());
  });
}
