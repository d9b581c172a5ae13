// HostNetwork on the real kernel: rtnetlink through libnl-route-3, TAPs through
// /dev/net/tun (the kernel's only way to set a TAP's owner), forwarding from /proc.
#pragma once

#include "host_network.h"

struct nl_sock;

namespace banger::net {

class LinuxNetwork final : public HostNetwork {
 public:
  LinuxNetwork();
  ~LinuxNetwork() override;
  LinuxNetwork(const LinuxNetwork&) = delete;
  LinuxNetwork& operator=(const LinuxNetwork&) = delete;

  void ensureBridge(const std::string& bridge, Ipv4 gateway, unsigned prefix) override;
  void createTap(const std::string& name, uid_t owner, const std::string& bridge) override;
  void deleteTap(const std::string& name) override;
  bool linkExists(const std::string& name) override;
  int interfaceIndex(const std::string& name) override { return ifindex(name); }
  std::vector<std::string> linksWithPrefix(const std::string& prefix) override;
  std::string defaultRouteInterface() override;
  bool ipForwardingEnabled() override;

 private:
  int ifindex(const std::string& name);
  void setUpWithMaster(const std::string& name, int masterIndex);
  nl_sock* socket_ = nullptr;
};

}  // namespace banger::net
