#include "host_resources.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>  // before linux/if_tun.h, which needs ifreq
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <fstream>

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

long readNumber(const std::string& path) {
  std::ifstream in(path);
  long value = -1;
  in >> value;
  return in ? value : -2;
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
  // An unprivileged TUNSETIFF cannot create a device, nor take another user's.
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) throw ApiError(tapFailure(EPERM, name));
  // sysfs describes the namespace it was mounted for; trust it only when it shows this
  // very device (under nsenter --net it shows another namespace's).
  const std::string sys = "/sys/class/net/" + name + "/";
  if (readNumber(sys + "ifindex") == static_cast<long>(index)) {
    if (readNumber(sys + "tun_flags") == -2) throw ApiError(tapFailure(EINVAL, name));
    const long owner = readNumber(sys + "owner");
    const long group = readNumber(sys + "group");
    if (caller != 0 && owner != -1 && owner != static_cast<long>(caller) && group == -1)
      throw ApiError(tapFailure(EPERM, name));
  }
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(tun.get(), TUNSETIFF, &request) < 0) throw ApiError(tapFailure(errno, name));
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
