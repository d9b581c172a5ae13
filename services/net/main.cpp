// banger-net: the root-side network service on the system bus. Logic lives in the library.
#include "banger/daemon.h"
#include "net_manager.h"

namespace banger::xml {
extern const std::string_view net_interfaces;
}

int main(int argc, char** argv) {
  using namespace banger;
  DaemonSpec spec{"banger-net", net::kBusName, BusKind::System, xml::net_interfaces,
                  "banger's network service (org.banger.Net on the system bus)"};
  return runDaemon(argc, argv, spec, [](ServiceContext& context) {
    return std::make_unique<net::NetManager>(context, net::NetSettings{});
  });
}
