// How the stand-ins' worker threads are told to end: an eventfd every wait also polls.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "vm_config.h"

namespace fcfake {

class StopSignal {
 public:
  StopSignal() : fd_(eventfd(0, EFD_CLOEXEC)) {}
  void fire() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(fd_.get(), &one, sizeof one);
  }
  int fd() const { return fd_.get(); }

  // Waits for `events` on `fd` (at most timeoutMs, -1 = no limit), retrying on EINTR.
  // Returns fd's revents (0 on timeout), or -1 once the signal fired or poll failed.
  int wait(int fd, short events, int timeoutMs = -1) const {
    for (;;) {
      pollfd fds[2] = {{fd, events, 0}, {fd_.get(), POLLIN, 0}};
      if (poll(fds, 2, timeoutMs) < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      if (fds[1].revents) return -1;
      return fds[0].revents;
    }
  }

 private:
  UniqueFd fd_;
};

}  // namespace fcfake
