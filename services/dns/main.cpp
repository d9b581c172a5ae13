// banger-dns: the .vm zone on the session bus. Everything lives in the library.
#include <cstdlib>

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
    // Sockets from banger-dns.socket when systemd passes them; otherwise it binds
    // BANGER_DNS_LISTEN (default 127.0.0.1:42069) itself.
    const char* configured = std::getenv("BANGER_DNS_LISTEN");
    const std::string address = configured && *configured ? configured : dns::kListenAddress;
    auto listeners = dns::openListeners(address);
    return std::make_unique<dns::DnsManager>(context, address, std::move(listeners));
  });
}
