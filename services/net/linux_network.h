// HostNetwork on the real kernel: rtnetlink through libnl-route-3, TAPs through
// /dev/net/tun (the kernel's only way to set a TAP's owner), forwarding from /proc.
#pragma once

#include "banger/netlink_ptr.h"
#include "host_network.h"

struct nl_sock;

namespace banger::net {

class LinuxNetwork final : public HostNetwork {
 public:
  LinuxNetwork();
  ~LinuxNetwork() override;
  LinuxNetwork(const LinuxNetwork&) = delete;
  LinuxNetwork& operator=(const LinuxNetwork&) = delete;

  void ensureBridge(const std::string& bridge, Ipv4 gateway, unsigned prefix,
                    const std::string& mac) override;
  int createTap(const std::string& name, uid_t owner, const std::string& bridge) override;
  bool deleteTap(const std::string& name, int index) override;
  std::optional<LinkInfo> link(const std::string& name) override;
  std::vector<LinkInfo> linksWithPrefix(const std::string& prefix) override;
  int interfaceIndex(const std::string& name) override { return ifindex(name); }
  std::vector<std::string> defaultRouteInterfaces() override;
  bool ipForwardingEnabled() override;
  void pinNeighbours(const std::string& bridge, const std::vector<Neighbour>& guests) override;
  Listener openDnsListener(const Ipv4Endpoint& at) override;

  // The ifalias every TAP banger creates carries: how a TAP leaked by a crash between
  // its creation and its record is told apart from one somebody else made.
  static constexpr const char* kMarker = "banger";

 private:
  int ifindex(const std::string& name);
  // Up, enslaved to `masterIndex` (0: none), with `alias` (nullptr: unchanged).
  void setUpWithMaster(const std::string& name, int masterIndex, const char* alias);
  void quickAckSubnetRoute(int bridgeIndex, Ipv4 gateway, unsigned prefix);
  void setAddress(const std::string& name, const std::string& mac);
  // The kernel's `name`; Failed naming it when there is none.
  nl::Link existingLink(const std::string& name);
  nl_sock* socket_ = nullptr;
};

}  // namespace banger::net
