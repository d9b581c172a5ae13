// banger-net: the root-side network service on the system bus. Logic lives in the library.
#include "banger/daemon.h"
#include "banger/paths.h"
#include "linux_network.h"
#include "nameservers.h"
#include "net_manager.h"
#include "nftables_firewall.h"

namespace banger::xml {
extern const std::string_view net_interfaces;
}

int main(int argc, char** argv) {
  using namespace banger;
  DaemonSpec spec{"banger-net", net::kBusName, BusKind::System, xml::net_interfaces,
                  "banger's network service (org.banger.Net on the system bus)"};
  spec.budget = net::kMessageBudget;
  spec.workerThreads = 1;  // host changes are serialised (NetManager)
  spec.workQueueCapacity = 256;
  return runDaemon(argc, argv, spec, [](ServiceContext& context) {
    const auto paths = SystemPaths::resolve(processEnvironment());
    auto config = net::loadNetConfig(paths.netConfigFile);
    const auto fallback = config.fallbackNameservers;
    net::NetDependencies deps{std::make_unique<net::LinuxNetwork>(),
                              std::make_unique<net::NftablesFirewall>(),
                              std::make_unique<net::PolkitAuthorizer>(context.connection),
                              std::make_unique<net::ResolvedResolver>(),
                              [fallback] { return net::hostNameservers(fallback); }};
    return std::make_unique<net::NetManager>(context, std::move(config),
                                             paths.netStateDir / "net.db", std::move(deps));
  });
}
