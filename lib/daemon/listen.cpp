#include "banger/listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "banger/errors.h"

namespace banger {
namespace {

int bound(int type, const sockaddr_in& at, const std::string& name) {
  const std::string what = name + (type == SOCK_STREAM ? " (TCP)" : " (UDP)");
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(ErrorCode::Failed, "socket for " + what + ": " + std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 ||
      (type == SOCK_STREAM && listen(fd, 128) != 0)) {
    const int error = errno;
    close(fd);
    if (error == EADDRINUSE) {
      fail(ErrorCode::Busy, "cannot listen on " + what +
                                ": it is in use (`sudo ss -lnptu 'sport = :" +
                                std::to_string(ntohs(at.sin_port)) + "'` shows by whom)");
    }
    fail(ErrorCode::Failed, "cannot listen on " + what + ": " + std::strerror(error));
  }
  return fd;
}

}  // namespace

UdpAndTcp listenUdpAndTcp(const Ipv4Endpoint& endpoint) {
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(endpoint.port);
  at.sin_addr.s_addr = htonl(endpoint.address.value);
  const std::string name = endpoint.str();
  UdpAndTcp sockets;
  sockets.udp = bound(SOCK_DGRAM, at, name);
  try {
    sockets.tcp = bound(SOCK_STREAM, at, name);
  } catch (...) {
    close(sockets.udp);
    throw;
  }
  return sockets;
}

}  // namespace banger
