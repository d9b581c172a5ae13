#include "ssh_master.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>

namespace banger::vm {
namespace {

using Clock = std::chrono::steady_clock;

// OpenSSH's multiplexing protocol (PROTOCOL.mux, mux.c): a client says HELLO with the
// protocol's version, then asks; each message is its length, its type and its body, in
// big-endian 32-bit words here.
constexpr uint32_t kMuxHello = 0x00000001;
constexpr uint32_t kMuxVersion = 4;
constexpr uint32_t kMuxTerminate = 0x10000005;

void appendMessage(std::string& out, std::initializer_list<uint32_t> words) {
  const auto put = [&out](uint32_t word) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((word >> shift) & 0xff);
  };
  put(static_cast<uint32_t>(4 * words.size()));
  for (const uint32_t word : words) put(word);
}

// A connection to the master listening on `path`, or -1 when nothing of this user
// listens there (a stale socket file, another user's process).
int connectToMaster(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) return -1;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  ucred peer{};
  socklen_t length = sizeof peer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0 && peer.uid == ::getuid())
    return fd;
  ::close(fd);
  return -1;
}

// Reads and drops what the master says until it closes the connection; false when it
// has not by `deadline`.
bool closedBy(int fd, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return false;
    char buffer[256];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
}

}  // namespace

bool sshMasterListens(const std::string& controlPath) {
  const int fd = connectToMaster(controlPath);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool endSshMaster(const std::string& controlPath, std::chrono::milliseconds wait) {
  bool ended = true;
  if (const int fd = connectToMaster(controlPath); fd >= 0) {
    // As `ssh -O exit` asks. Not a signal to the socket's peer: that is the ssh which
    // logged in and then left the master behind in a process of its own (ControlPersist).
    std::string request;
    appendMessage(request, {kMuxHello, kMuxVersion});
    appendMessage(request, {kMuxTerminate, 1});
    const auto deadline = Clock::now() + wait;
    ended = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(request.size()) &&
            closedBy(fd, deadline);
    ::close(fd);
  }
  std::error_code ignored;
  std::filesystem::remove(controlPath, ignored);
  return ended;
}

}  // namespace banger::vm
