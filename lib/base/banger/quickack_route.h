// The route the kernel made for an interface's address, made again with quickack 1, so
// this side acknowledges the other's segments at once. OpenSSH writes its handshake in
// small pieces with Nagle on until a session starts; with delayed ACKs each round trip
// waited about 40 ms. Both ends of a VM's link use it: banger-net on the bridge,
// banger-init on the guest's eth0 (docs/ssh.md).
#pragma once

#include "banger/ipv4.h"

struct nl_sock;

namespace banger {

// Replaces the main table's link-scope route to `subnet` (its host bits are ignored) on
// interface `ifindex`, preferred source `source`. libnl's result: 0, or a negative
// NLE_* code the caller turns into its own error (nl_geterror).
int replaceSubnetRouteWithQuickAck(nl_sock* socket, int ifindex, Ipv4Network subnet, Ipv4 source);

}  // namespace banger
