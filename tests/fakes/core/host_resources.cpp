#include "host_resources.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>  // before linux/if_tun.h, which needs ifreq
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "backend.h"
#include "vmm.h"

namespace fcfake {

namespace {

std::string tapFailure(int error, const std::string& name) {
  return "Could not create the network device: Open tap device failed: Error while creating "
         "ifreq structure: " +
         osError(error) + ". Invalid TUN/TAP Backend provided by " + name +
         ". Check our documentation on setting up the network devices.";
}

// TUNSETIFF with the kernel's own rights check done for `caller`: a root stand-in
// plays a Firecracker that the caller started, so it asks on a thread of its own that
// carries the caller's euid. The raw setresuid changes that thread only, and leaving euid
// 0 clears its effective capabilities, as an unprivileged process has none.
int setTap(int tun, ifreq& request, uid_t caller) {
  const auto attempt = [&] { return ioctl(tun, TUNSETIFF, &request) < 0 ? errno : 0; };
  if (geteuid() != 0 || caller == 0 || caller == static_cast<uid_t>(-1)) return attempt();
  int error = 0;
  std::thread([&] {
    if (syscall(SYS_setresuid, -1, caller, -1) != 0) {
      error = errno;
      return;
    }
    error = attempt();
  }).join();
  return error;
}

}  // namespace

UniqueFd attachTap(const std::string& name, uid_t caller) {
  if (name.size() >= IFNAMSIZ)
    throw ApiError(
        "Could not create the network device: Open tap device failed: Invalid interface name");
  UniqueFd tun(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!tun)
    throw ApiError(
        "Could not create the network device: Open tap device failed: Couldn't open "
        "/dev/net/tun: " +
        osError(errno));
  // An unprivileged TUNSETIFF cannot create a device; a root stand-in must not either.
  if (if_nametoindex(name.c_str()) == 0) throw ApiError(tapFailure(EPERM, name));
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (const int error = setTap(tun.get(), request, caller); error != 0)
    throw ApiError(tapFailure(error, name));
  return tun;
}

UniqueFd bindVsockSocket(const std::string& path) {
  const std::string prefix = "Cannot create backend for vsock device: ";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    throw ApiError(prefix + "Error binding to the host-side Unix socket: " + osError(EINVAL));
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket || bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(socket.get(), 128) != 0)
    throw ApiError(prefix + "Error binding to the host-side Unix socket: " + osError(errno));
  return socket;
}

}  // namespace fcfake

namespace fcfake {
UniqueFd openConsole(const VmConfig& config) {
  if (!config.serialOutPath) return UniqueFd(fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0));
  UniqueFd file(open(config.serialOutPath->c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!file) throw ApiError("Error creating legacy device: " + osError(errno));
  return file;
}
}  // namespace fcfake
