// POST /exec (docs/guest.md): one shell script run as root in the guest, fed the rest of
// the request's body as its stdin, and answered once it has ended. The Vm service copies a
// workspace through it while its first SSH login is still under way, instead of after it.
//
// The body, chunked since the host streams it, is the script, a NUL, then the script's
// stdin. The answer is {"exit_code": N, "signal": N, "stderr": "..."} (the first 4 KiB of
// stderr; stdout is discarded). A connection that ends before the body does kills the
// script's whole session. Only the host may ask: a vsock peer other than CID 2 (a process
// in the guest itself, where vsock_loopback is loaded) is answered 403.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace banger::guest {

inline constexpr std::size_t kMaxExecSessions = 4;
inline constexpr std::size_t kMaxExecScript = 64 * 1024;
inline constexpr std::size_t kMaxExecStderr = 4096;

// Whether a peer at `address` may run scripts: the host's vsock CID (2), or a Unix socket
// peer, which only reaches an agent listening on a Unix socket (tests, the simulator).
bool execPeerAllowed(const sockaddr_storage& address);

class ExecService {
 public:
  // `environment`: the scripts' (NAME=value), e.g. PATH and HOME. Sets SIGPIPE to be
  // ignored in this process.
  explicit ExecService(std::vector<std::string> environment);
  // Ends the sessions under way, their scripts killed, and waits for them.
  ~ExecService();
  ExecService(const ExecService&) = delete;
  ExecService& operator=(const ExecService&) = delete;

  // Takes over `fd`, a connection whose head (POST /exec, chunked) has been read; `pending`
  // is what came after the head. Answered 503 when kMaxExecSessions are under way.
  void start(int fd, std::string pending, bool expectContinue);

 private:
  struct Session {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void serve(int fd, std::string pending, bool expectContinue) const;

  std::vector<std::string> environment_;
  int stopFds_[2];  // the write end closes at destruction: every session sees its read end
  std::mutex mutex_;
  std::list<Session> sessions_;
};

}  // namespace banger::guest
