// banger-dns: the .vm zone on the session bus. Everything lives in the library.
#include <cstdlib>

#include "banger/daemon.h"
#include "banger/errors.h"
#include "banger/log.h"
#include "dns_manager.h"

namespace banger::xml {
extern const std::string_view dns_interfaces;
}

int main(int argc, char** argv) {
  using namespace banger;
  DaemonSpec spec{"banger-dns", dns::kBusName, BusKind::User, xml::dns_interfaces,
                  "banger's DNS service (org.banger.Dns on the session bus)"};
  spec.workerThreads = 0;  // everything it does is on the event loop
  return runDaemon(argc, argv, spec, [](ServiceContext& context) {
    // Sockets from systemd; or BANGER_DNS_LISTEN, bound here (a failure leaves the
    // D-Bus side serving); or else the listener Net routes .vm to, when this user owns
    // the routing (docs/dns-routing.md).
    dns::DnsListening listening;
    listening.listeners = dns::passedListeners();
    const char* configured = std::getenv("BANGER_DNS_LISTEN");
    if (listening.listeners.empty() && configured != nullptr && *configured != '\0') {
      try {
        listening.listeners = dns::bindListeners(configured);
      } catch (const Error& e) {
        log::error(std::string(e.what()) + "; answering on D-Bus only");
      }
    } else if (listening.listeners.empty()) {
      listening.followNetRouting = true;
    }
    return std::make_unique<dns::DnsManager>(context, std::move(listening));
  });
}
