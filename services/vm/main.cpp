// banger-vm: the user's VMs on the session bus. Everything lives in the library; this
// picks the real implementation of each outside party.
#include "banger/daemon.h"
#include "banger/process.h"
#include "unit_launcher.h"
#include "vm_manager.h"

namespace banger::xml {
extern const std::string_view vm_interfaces;
}

int main(int argc, char** argv) {
  using namespace banger;
  DaemonSpec spec{"banger-vm", vm::kBusName, BusKind::User, xml::vm_interfaces,
                  "banger's VM service (org.banger.Vm on the session bus)"};
  // A create or start holds its worker while the guest boots (seconds, mostly waiting),
  // so twenty machines started at once need about as many threads.
  spec.workerThreads = 24;
  spec.workQueueCapacity = 256;
  static SystemProcessRunner runner;
  return runDaemon(argc, argv, spec, [](ServiceContext& context) {
    vm::Peers peers;
    peers.net = std::make_unique<vm::BusNetClient>();
    peers.image = std::make_unique<vm::BusImageClient>();
    peers.firecracker = std::make_unique<vm::HttpFirecrackerApi>();
    peers.launcher =
        std::make_unique<vm::UnitLauncher>(std::make_unique<vm::DetachedLauncher>(runner));
    peers.agent = std::make_unique<vm::VsockAgentClient>();
    peers.programs = std::make_unique<SystemProcessRunner>();
    return std::make_unique<vm::VmManager>(context, UserPaths::resolve(processEnvironment()),
                                           std::make_unique<SystemHostProbe>(), std::move(peers));
  });
}
