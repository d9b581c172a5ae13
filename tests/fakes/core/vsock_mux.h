// The host side of Firecracker's vsock device: connections to uds_path send
// "CONNECT <port>\n" and get "OK <host port>\n" when the guest listens on that port,
// else are closed. A guest listener on port P is the Unix socket "<uds_path>.guest_P"
// (where the simulator binds the guest's translated AF_VSOCK sockets; with the plain
// fake a test may listen there to play the guest).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "stop_signal.h"
#include "vm_config.h"

namespace fcfake {

class VsockMuxer {
 public:
  // Takes over the listening socket; serves it until destroyed.
  VsockMuxer(UniqueFd listener, std::string udsPath);
  ~VsockMuxer();
  VsockMuxer(const VsockMuxer&) = delete;
  VsockMuxer& operator=(const VsockMuxer&) = delete;

  static std::string guestListenerPath(const std::string& udsPath, unsigned port);

 private:
  void run();
  void serve(int host);

  UniqueFd listener_;
  std::string udsPath_;
  StopSignal stop_;
  std::atomic<unsigned> nextHostPort_{1u << 30};
  std::thread thread_;
};

// Copies bytes both ways between two stream sockets until both directions end.
void splice(int a, int b);

}  // namespace fcfake
