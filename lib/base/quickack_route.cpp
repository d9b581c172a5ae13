#include "banger/quickack_route.h"

#include <linux/rtnetlink.h>
#include <netlink/errno.h>

#include "banger/netlink_ptr.h"

namespace banger {

int replaceSubnetRouteWithQuickAck(nl_sock* socket, int ifindex, Ipv4Network subnet, Ipv4 source) {
  subnet.base.value &= subnet.mask();
  const nl::Addr destination = nl::ipv4(subnet.base, subnet.prefix);
  const nl::Addr from = nl::ipv4(source, 32);
  const nl::Route route(rtnl_route_alloc());
  nl::Nexthop hop(rtnl_route_nh_alloc());
  if (!destination || !from || !route || !hop) return -NLE_NOMEM;
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_KERNEL);
  rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
  rtnl_route_set_dst(route.get(), destination.get());
  rtnl_route_set_pref_src(route.get(), from.get());
  rtnl_route_set_metric(route.get(), RTAX_QUICKACK, 1);
  rtnl_route_nh_set_ifindex(hop.get(), ifindex);
  rtnl_route_add_nexthop(route.get(), hop.release());  // the route owns it now
  return rtnl_route_add(socket, route.get(), NLM_F_REPLACE);
}

}  // namespace banger
