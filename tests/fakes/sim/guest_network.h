// The guest's NICs: a network namespace of its own holding a TAP per configured
// interface (eth0, eth1, ... carrying guest_mac and mtu), with frames copied both ways
// between each and the host TAP leased to the VM. The namespace has no name: it goes
// away with the last process and descriptor in it, so a killed simulator leaves none.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "core/stop_signal.h"
#include "core/vm_config.h"

namespace fcfake::sim {

class GuestNetwork {
 public:
  // Takes over each interface's host TAP.
  explicit GuestNetwork(std::vector<NetworkInterface>& interfaces);
  ~GuestNetwork();
  GuestNetwork(const GuestNetwork&) = delete;
  GuestNetwork& operator=(const GuestNetwork&) = delete;

  int namespaceFd() const { return netns_.get(); }

 private:
  struct Link {
    UniqueFd host;
    UniqueFd guest;
  };
  UniqueFd netns_;
  StopSignal stop_;  // ends the relays
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::thread> relays_;
};

}  // namespace fcfake::sim
