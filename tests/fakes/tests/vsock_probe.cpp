// vsock-probe, a static program for the simulator's guest image (plain AF_VSOCK, as an
// unmodified guest program uses it):
//   vsock-probe listen PORT        echoes every connection's bytes back, forever
//   vsock-probe dial PORT MESSAGE  connects to the host (CID 2) on PORT and sends MESSAGE
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const unsigned port = static_cast<unsigned>(std::atoi(argv[2]));
  const int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("socket(AF_VSOCK)");
    return 1;
  }
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_port = port;
  if (std::strcmp(argv[1], "listen") == 0) {
    address.svm_cid = VMADDR_CID_ANY;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, 16) != 0) {
      std::perror("bind/listen");
      return 1;
    }
    for (;;) {
      const int peer = accept(fd, nullptr, nullptr);
      if (peer < 0) continue;
      char buffer[4096];
      for (ssize_t n; (n = read(peer, buffer, sizeof buffer)) > 0;)
        if (write(peer, buffer, static_cast<size_t>(n)) != n) break;
      close(peer);
    }
  }
  if (std::strcmp(argv[1], "dial") == 0 && argc == 4) {
    address.svm_cid = VMADDR_CID_HOST;
    // The host listener may come late: try for a while, as an agent would.
    for (int attempt = 0; attempt < 300; ++attempt) {
      if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        const size_t length = std::strlen(argv[3]);
        return write(fd, argv[3], length) == static_cast<ssize_t>(length) ? 0 : 1;
      }
      usleep(100000);
    }
    std::perror("connect");
    return 1;
  }
  return 2;
}
