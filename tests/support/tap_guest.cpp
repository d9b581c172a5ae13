// tap-guest: stands in for Firecracker on a leased TAP, for the netns tests.
//   tap-guest hold TAP
//       attaches to TAP (open /dev/net/tun, TUNSETIFF) as whoever runs it, as Firecracker
//       does, prints "held" and keeps it open until it is killed.
//   tap-guest relay TAP GUEST_NETNS UID GID
//       (root) creates a TAP "eth0" inside the named network namespace, then, as UID:GID
//       with no capabilities, attaches to TAP in its own namespace like Firecracker, and
//       relays frames between the two until killed: the namespace is the guest, eth0
//       its NIC.
#include <fcntl.h>
#include <grp.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tap-guest: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int attach(const std::string& name) {
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun");
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &request) < 0) die("TUNSETIFF " + name);
  return fd;
}

void enterNetns(const std::string& path) {
  const int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) die("entering " + path);
  close(ns);
}

// Copies frames both ways until either side goes away.
void relay(int host, int guest) {
  char frame[65536];
  for (;;) {
    pollfd fds[2] = {{host, POLLIN, 0}, {guest, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) die("poll");
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      const ssize_t n = read(fds[i].fd, frame, sizeof frame);
      if (n <= 0) return;
      [[maybe_unused]] ssize_t written = write(i == 0 ? guest : host, frame, n);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "hold" && argc == 3) {
    attach(argv[2]);
    std::printf("held\n");
    std::fflush(stdout);
    for (;;) pause();
  }
  if (mode == "relay" && argc == 6) {
    const int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    enterNetns(std::string("/run/netns/") + argv[3]);
    const int guest = attach("eth0");
    if (setns(home, CLONE_NEWNET) != 0) die("returning to the host namespace");
    const gid_t gid = static_cast<gid_t>(std::atoi(argv[5]));
    const uid_t uid = static_cast<uid_t>(std::atoi(argv[4]));
    if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
      die("dropping to " + std::to_string(uid));
    }
    const int host = attach(argv[2]);  // as the TAP's owner, without capabilities
    std::printf("relaying\n");
    std::fflush(stdout);
    relay(host, guest);
    return 0;
  }
  std::fprintf(stderr, "usage: tap-guest hold TAP | tap-guest relay TAP NETNS UID GID\n");
  return 2;
}
