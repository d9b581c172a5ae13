#include "ssh_master.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace banger::vm {
namespace {

// The pid behind a listening unix socket, or 0 when nothing of this user listens there.
pid_t listenerOf(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) return 0;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  ucred peer{};
  socklen_t length = sizeof peer;
  const bool found =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0 && peer.uid == ::getuid();
  ::close(fd);
  return found ? peer.pid : 0;
}

}  // namespace

bool sshMasterListens(const std::string& controlPath) { return listenerOf(controlPath) > 0; }

bool endSshMaster(const std::string& controlPath, std::chrono::milliseconds wait) {
  const pid_t master = listenerOf(controlPath);
  bool ended = true;
  if (master > 0) {
    // Signalled and waited for through a pidfd, so a pid reused meanwhile is never hit.
    const int exited = static_cast<int>(::syscall(SYS_pidfd_open, master, 0));
    if (exited >= 0 && ::syscall(SYS_pidfd_send_signal, exited, SIGTERM, nullptr, 0) == 0) {
      pollfd p{exited, POLLIN, 0};
      ended = ::poll(&p, 1, static_cast<int>(wait.count())) == 1;
    }
    if (exited >= 0) ::close(exited);
  }
  std::error_code ignored;
  std::filesystem::remove(controlPath, ignored);
  return ended;
}

}  // namespace banger::vm
