#include "interface_setup.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <memory>
#include <stdexcept>

#include "banger/netlink_ptr.h"
#include "banger/quickack_route.h"

namespace banger::guest {

namespace {

void check(int result, const std::string& what) {
  if (result < 0) throw std::runtime_error(what + ": " + nl_geterror(result));
}

nl::Socket connect() {
  nl::Socket socket(nl_socket_alloc());
  if (!socket) throw std::runtime_error("netlink: out of memory");
  check(nl_connect(socket.get(), NETLINK_ROUTE), "netlink: connecting");
  return socket;
}

nl::Addr ipv4(Ipv4 address, unsigned prefix) {
  nl::Addr out = nl::ipv4(address, prefix);
  if (!out) throw std::runtime_error("netlink: out of memory");
  return out;
}

nl::Link linkNamed(nl_sock* socket, const std::string& interface) {
  rtnl_link* found = nullptr;
  check(rtnl_link_get_kernel(socket, 0, interface.c_str(), &found), interface);
  return nl::Link(found);
}

void setUp(nl_sock* socket, const std::string& interface, unsigned mtu) {
  nl::Link link = linkNamed(socket, interface);
  nl::Link change(rtnl_link_alloc());
  if (!change) throw std::runtime_error("netlink: out of memory");
  if (mtu != 0) rtnl_link_set_mtu(change.get(), mtu);
  rtnl_link_set_flags(change.get(), IFF_UP);
  check(rtnl_link_change(socket, link.get(), change.get(), 0),
        interface + ": setting it up" + (mtu ? " with MTU " + std::to_string(mtu) : ""));
}

}  // namespace

void bringUpLoopback() {
  nl::Socket socket = connect();
  setUp(socket.get(), "lo", 0);
}

void configureInterface(const std::string& interface, const GuestNetwork& network) {
  nl::Socket socket = connect();
  const int index = static_cast<int>(if_nametoindex(interface.c_str()));
  if (index == 0) throw std::runtime_error(interface + ": no such interface");
  setUp(socket.get(), interface, network.mtu);

  const std::string where = network.address.str() + "/" + std::to_string(network.prefix);
  nl::LinkAddr address(rtnl_addr_alloc());
  if (!address) throw std::runtime_error("netlink: out of memory");
  rtnl_addr_set_ifindex(address.get(), index);
  nl::Addr local = ipv4(network.address, network.prefix);
  check(rtnl_addr_set_local(address.get(), local.get()), interface + ": address " + where);
  check(rtnl_addr_add(socket.get(), address.get(), NLM_F_REPLACE),
        interface + ": adding address " + where);
  check(replaceSubnetRouteWithQuickAck(
            socket.get(), index, Ipv4Network{network.address, network.prefix}, network.address),
        interface + ": quickack on the route to its subnet");

  if (!network.gateway) return;
  const std::string via = "default route via " + network.gateway->str();
  nl::Route route(rtnl_route_alloc());
  if (!route) throw std::runtime_error("netlink: out of memory");
  rtnl_route_set_family(route.get(), AF_INET);
  nl::Addr any = ipv4(Ipv4{}, 0);
  check(rtnl_route_set_dst(route.get(), any.get()), via);
  nl::Nexthop hop(rtnl_route_nh_alloc());
  if (!hop) throw std::runtime_error("netlink: out of memory");
  rtnl_route_nh_set_ifindex(hop.get(), index);
  nl::Addr gateway = ipv4(*network.gateway, 32);
  rtnl_route_nh_set_gateway(hop.get(), gateway.get());
  rtnl_route_add_nexthop(route.get(), hop.release());  // the route owns it now
  check(rtnl_route_add(socket.get(), route.get(), NLM_F_REPLACE), interface + ": adding " + via);
}

}  // namespace banger::guest
