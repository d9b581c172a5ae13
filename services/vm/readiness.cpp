#include "readiness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace banger::vm {

bool sshAnswers(const std::string& address, uint16_t port, std::chrono::milliseconds timeout) {
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &target.sin_addr) != 1) return false;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto waitFor = [&](short events) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    return left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1 &&
           (p.revents & events) != 0;
  };
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0 ||
      errno == EINPROGRESS) {
    int error = 0;
    socklen_t length = sizeof error;
    if (waitFor(POLLOUT) && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 &&
        error == 0) {
      char banner[8] = {};
      size_t got = 0;
      while (got < sizeof banner && waitFor(POLLIN)) {
        const ssize_t n = ::recv(fd, banner + got, sizeof banner - got, 0);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      ok = got == sizeof banner && std::string(banner, sizeof banner) == "SSH-2.0-";
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace banger::vm
