// banger-dns: the .vm zone on the session bus. Everything lives in the library.
#include "banger/daemon.h"
#include "dns_manager.h"

namespace banger::xml {
extern const std::string_view dns_interfaces;
}

int main(int argc, char** argv) {
  using namespace banger;
  DaemonSpec spec{"banger-dns", dns::kBusName, BusKind::User, xml::dns_interfaces,
                  "banger's DNS service (org.banger.Dns on the session bus)"};
  return runDaemon(argc, argv, spec, [](ServiceContext& context) {
    return std::make_unique<dns::DnsManager>(context);
  });
}
