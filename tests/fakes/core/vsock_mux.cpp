#include "vsock_mux.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace fcfake {

namespace {

// Firecracker's parser: "CONNECT <port>\n", keyword case-insensitive, at most 32 bytes.
bool readConnect(int fd, unsigned& port) {
  std::string line;
  char c = 0;
  while (line.size() < 32) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return false;
    if (recv(fd, &c, 1, 0) != 1) return false;
    if (c == '\n') break;
    line.push_back(c);
  }
  if (c != '\n' || line.size() < 9) return false;
  std::string keyword = line.substr(0, 8);
  for (char& k : keyword) k = static_cast<char>(std::toupper(static_cast<unsigned char>(k)));
  if (keyword != "CONNECT ") return false;
  const std::string digits = line.substr(8);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() > 10)
    return false;
  const unsigned long value = std::stoul(digits);
  if (value > 0xffffffffUL) return false;
  port = static_cast<unsigned>(value);
  return true;
}

int connectUnix(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return -1;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

void splice(int a, int b) {
  char buffer[65536];
  bool open[2] = {true, true};  // a→b, b→a
  while (open[0] || open[1]) {
    pollfd fds[2] = {{a, static_cast<short>(open[0] ? POLLIN : 0), 0},
                     {b, static_cast<short>(open[1] ? POLLIN : 0), 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int from = i == 0 ? a : b;
      const int to = i == 0 ? b : a;
      const ssize_t n = recv(from, buffer, sizeof buffer, 0);
      if (n <= 0 || !sendAll(to, std::string_view(buffer, static_cast<std::size_t>(n)))) {
        open[i] = false;
        shutdown(to, SHUT_WR);
        if (n < 0) return;
      }
    }
  }
}

VsockMuxer::VsockMuxer(UniqueFd listener, std::string udsPath)
    : listener_(std::move(listener)), udsPath_(std::move(udsPath)), thread_([this] { run(); }) {}

VsockMuxer::~VsockMuxer() {
  stop_.fire();
  thread_.join();
}

std::string VsockMuxer::guestListenerPath(const std::string& udsPath, unsigned port) {
  return udsPath + ".guest_" + std::to_string(port);
}

void VsockMuxer::run() {
  while (stop_.wait(listener_.get(), POLLIN) >= 0) {
    const int host = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (host < 0) continue;
    // Each connection on a thread of its own: they live as long as their peers.
    std::thread([this, host] {
      serve(host);
      close(host);
    }).detach();
  }
}

void VsockMuxer::serve(int host) {
  unsigned port = 0;
  if (!readConnect(host, port)) return;
  const int guest = connectUnix(guestListenerPath(udsPath_, port));
  if (guest < 0) return;  // no guest listener: Firecracker closes the connection
  const std::string ok = "OK " + std::to_string(nextHostPort_++) + "\n";
  if (sendAll(host, ok)) splice(host, guest);
  close(guest);
}

}  // namespace fcfake
