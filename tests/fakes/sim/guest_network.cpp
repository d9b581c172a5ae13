#include "guest_network.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>  // before linux/if_tun.h, which needs ifreq
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>

#include "core/backend.h"
#include "core/vmm.h"

namespace fcfake::sim {

namespace {

UniqueFd createGuestTap(const std::string& name, const NetworkInterface& iface) {
  UniqueFd tap(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (!tap || ioctl(tap.get(), TUNSETIFF, &request) != 0)
    throw ApiError("Cannot create the guest's " + name + ": " + osError(errno));
  // Persistent, so that closing it at the VMM's end does not unregister it: that waits for
  // an RCU grace period inside the dying process (about 20 ms here), a cost Firecracker,
  // which holds only the host's persistent TAP, never has. The namespace's teardown still
  // deletes it once the guest's last process is gone.
  if (ioctl(tap.get(), TUNSETPERSIST, 1UL) != 0)
    throw ApiError("Cannot make the guest's " + name + " persistent: " + osError(errno));
  UniqueFd control(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (iface.guestMac) {
    ifreq mac{};
    std::strncpy(mac.ifr_name, name.c_str(), IFNAMSIZ - 1);
    mac.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    unsigned bytes[6];
    std::sscanf(iface.guestMac->c_str(), "%x:%x:%x:%x:%x:%x", &bytes[0], &bytes[1], &bytes[2],
                &bytes[3], &bytes[4], &bytes[5]);
    for (int i = 0; i < 6; ++i) mac.ifr_hwaddr.sa_data[i] = static_cast<char>(bytes[i]);
    if (ioctl(control.get(), SIOCSIFHWADDR, &mac) != 0)
      throw ApiError("Cannot set " + name + "'s MAC address: " + osError(errno));
  }
  if (iface.mtu) {
    ifreq mtu{};
    std::strncpy(mtu.ifr_name, name.c_str(), IFNAMSIZ - 1);
    mtu.ifr_mtu = static_cast<int>(*iface.mtu);
    if (ioctl(control.get(), SIOCSIFMTU, &mtu) != 0)
      throw ApiError("Cannot set " + name + "'s MTU: " + osError(errno));
  }
  return tap;
}

bool writeFrame(int fd, const char* frame, std::size_t size, const StopSignal& stop) {
  for (;;) {
    if (write(fd, frame, size) >= 0) return true;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      // EIO: that end is down. Dropped, as a NIC without link drops.
      if (errno != EIO)
        std::fprintf(stderr, "firecracker-sim: relaying a frame: %s\n", std::strerror(errno));
      return true;
    }
    // Full: wait until it drains rather than dropping the frame.
    if (stop.wait(fd, POLLOUT) < 0) return false;
  }
}

void relay(int from, int to, const StopSignal& stop) {
  char frame[65536];
  while (stop.wait(from, POLLIN) >= 0) {
    for (;;) {
      const ssize_t n = read(from, frame, sizeof frame);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) {
        if (n < 0 && errno != EIO)
          std::fprintf(stderr, "firecracker-sim: reading a frame: %s\n", std::strerror(errno));
        // EIO while an end is down (eth0 before the guest brings it up): wait, retry.
        if (stop.wait(-1, 0, 20) < 0) return;
        break;
      }
      if (!writeFrame(to, frame, static_cast<std::size_t>(n), stop)) return;
    }
  }
}

}  // namespace

GuestNetwork::GuestNetwork(std::vector<NetworkInterface>& interfaces) {
  // A thread of its own enters the new namespace: namespaces are per thread.
  std::async(std::launch::async, [&] {
    if (unshare(CLONE_NEWNET) != 0)
      throw ApiError("Cannot create the guest's network namespace: " + osError(errno));
    netns_ = UniqueFd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    for (std::size_t i = 0; i < interfaces.size(); ++i) {
      auto link = std::make_unique<Link>();
      link->guest = createGuestTap("eth" + std::to_string(i), interfaces[i]);
      link->host = std::move(interfaces[i].tap);
      links_.push_back(std::move(link));
    }
  }).get();
  for (const auto& link : links_) {
    const int host = link->host.get(), guest = link->guest.get();
    relays_.emplace_back([this, host, guest] { relay(host, guest, stop_); });
    relays_.emplace_back([this, host, guest] { relay(guest, host, stop_); });
  }
}

GuestNetwork::~GuestNetwork() {
  stop_.fire();
  for (std::thread& thread : relays_) thread.join();
}

}  // namespace fcfake::sim
