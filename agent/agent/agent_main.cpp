// banger-agent: the guest's health and listening ports for the host, and scripts the host
// runs (a workspace copy), over vsock (docs/guest.md). Static, so it runs in any image;
// started by banger-agent.service.
#include <linux/vm_sockets.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "agent_server.h"
#include "guest_layout.h"

namespace {

banger::guest::AgentServer* server = nullptr;

void onSignal(int) {
  if (server) server->stop();
}

}  // namespace

int main() {
  using namespace banger::guest;
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  const int listener = ::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_ANY;
  address.svm_port = kAgentVsockPort;
  if (listener < 0 ||
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 16) != 0) {
    std::fprintf(stderr, "banger-agent: cannot listen on vsock port %u: %s\n", kAgentVsockPort,
                 std::strerror(errno));
    return 1;
  }
  const AgentHandler handler("/proc", systemdStateFromSystemctl);
  // What a root login shell would have; systemd gives the agent next to nothing.
  ExecService exec({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/sh"});
  AgentServer serving(listener, handler, kRequestDeadline, &exec);
  server = &serving;
  struct sigaction stop {};
  stop.sa_handler = onSignal;
  ::sigaction(SIGTERM, &stop, nullptr);
  ::sigaction(SIGINT, &stop, nullptr);
  std::fprintf(stderr, "banger-agent: serving /healthz, /ports and /exec on vsock port %u\n",
               kAgentVsockPort);
  try {
    serving.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "banger-agent: %s\n", error.what());
    return 1;
  }
  return 0;
}
