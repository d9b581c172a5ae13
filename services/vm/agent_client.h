// The host side of banger-agent (docs/guest.md): HTTP/1.0 through Firecracker's vsock
// Unix socket (`CONNECT 1024\n` → `OK <port>\n`, then the request). Everything read here
// comes from inside the guest, so it is parsed as untrusted input, bounded and fuzzed
// (tests/fuzz/fuzz_agent_answer.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace banger::vm {

inline constexpr uint32_t kAgentPort = 1024;

struct AgentHealth {
  std::string status;  // "ok"
  std::string bootId;
  double uptimeSec = 0;
  std::string systemd;  // running, degraded, starting, ...; empty when not asked
};

struct AgentPort {
  std::string proto;  // tcp, udp
  std::string address;
  uint16_t port = 0;
  std::string process;
  uint32_t pid = 0;
};

// What POST /exec answers once the script has ended.
struct AgentExecResult {
  int exitCode = -1;  // -1 when a signal ended it
  int signal = 0;
  std::string stderrText;  // its first 4 KiB
};

// The body of an HTTP answer with status 200; InvalidArgument naming what is wrong.
std::string agentAnswerBody(std::string_view answer);
AgentHealth parseAgentHealth(std::string_view body);
std::vector<AgentPort> parseAgentPorts(std::string_view body);
AgentExecResult parseAgentExecResult(std::string_view body);

class StreamSocket;
// A connection to the agent through Firecracker's vsock socket at `vsockPath`, past its
// `CONNECT` handshake; Unavailable when there is none (yet).
StreamSocket connectToAgent(const std::string& vsockPath, std::chrono::milliseconds timeout);

class AgentClient {
 public:
  virtual ~AgentClient() = default;
  // Unavailable when the agent does not answer (yet); InvalidArgument for a bad answer.
  // Without `askSystemd`, `systemd` may come back empty: the agent need not start systemctl.
  virtual AgentHealth health(const std::string& vsockPath, bool askSystemd) = 0;
  virtual std::vector<AgentPort> ports(const std::string& vsockPath) = 0;
};

class VsockAgentClient final : public AgentClient {
 public:
  explicit VsockAgentClient(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000))
      : timeout_(timeout) {}
  AgentHealth health(const std::string& vsockPath, bool askSystemd) override;
  std::vector<AgentPort> ports(const std::string& vsockPath) override;

 private:
  std::string get(const std::string& vsockPath, const std::string& path);
  std::chrono::milliseconds timeout_;
};

}  // namespace banger::vm
