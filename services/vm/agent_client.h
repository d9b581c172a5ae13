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
  std::string systemd;  // running, degraded, starting, ...
};

struct AgentPort {
  std::string proto;  // tcp, udp
  std::string address;
  uint16_t port = 0;
  std::string process;
  uint32_t pid = 0;
};

// The body of an HTTP answer with status 200; InvalidArgument naming what is wrong.
std::string agentAnswerBody(std::string_view answer);
AgentHealth parseAgentHealth(std::string_view body);
std::vector<AgentPort> parseAgentPorts(std::string_view body);

class AgentClient {
 public:
  virtual ~AgentClient() = default;
  // Unavailable when the agent does not answer (yet); InvalidArgument for a bad answer.
  virtual AgentHealth health(const std::string& vsockPath) = 0;
  virtual std::vector<AgentPort> ports(const std::string& vsockPath) = 0;
};

class VsockAgentClient final : public AgentClient {
 public:
  explicit VsockAgentClient(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000))
      : timeout_(timeout) {}
  AgentHealth health(const std::string& vsockPath) override;
  std::vector<AgentPort> ports(const std::string& vsockPath) override;

 private:
  std::string get(const std::string& vsockPath, const std::string& path);
  std::chrono::milliseconds timeout_;
};

}  // namespace banger::vm
