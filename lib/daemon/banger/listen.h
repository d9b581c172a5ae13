// UDP and listening TCP sockets on one IPv4 address and port: the .vm listener, which
// Net binds for the routing owner's banger-dns and banger-dns binds when configured to.
#pragma once

#include "banger/ipv4.h"

namespace banger {

struct UdpAndTcp {
  int udp = -1;
  int tcp = -1;
};

// Both bound (SO_REUSEADDR), TCP listening, or neither. Throws banger::Error naming the
// address: Busy when it is in use (and how to see by whom), Failed otherwise.
UdpAndTcp listenUdpAndTcp(const Ipv4Endpoint& endpoint);

}  // namespace banger
