// The agent's connection loop on one thread: poll over the listening socket and at most
// kMaxConnections clients, each with a buffer, a deadline and its queued answer, so a
// client that is slow, silent or never reads stalls nothing but itself.
#pragma once

#include <chrono>
#include <string>

#include "agent_handler.h"
#include "exec_service.h"

namespace banger::guest {

inline constexpr std::size_t kMaxConnections = 16;
inline constexpr auto kRequestDeadline = std::chrono::seconds(5);  // a request, or an answer out

class AgentServer {
 public:
  // `listenFd`: a listening stream socket (AF_VSOCK in the guest; AF_UNIX in tests), owned.
  // A connection that has not sent a whole request, or not read its answer, within
  // `deadline` is closed. POST /exec is handed to `exec` (404 without one), whose sessions
  // have no deadline: a copy takes as long as it takes, and the host ends it by hanging up.
  AgentServer(int listenFd, const AgentHandler& handler,
              std::chrono::milliseconds deadline = kRequestDeadline, ExecService* exec = nullptr);
  ~AgentServer();
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  // Serves until stop() is called (from any thread or a signal handler).
  void run();
  void stop();

 private:
  int listenFd_;
  int wakeFds_[2];
  const AgentHandler& handler_;
  std::chrono::milliseconds deadline_;
  ExecService* exec_;
};

}  // namespace banger::guest
