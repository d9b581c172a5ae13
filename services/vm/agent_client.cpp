#include "agent_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "banger/errors.h"

namespace banger::vm {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxAnswer = 1 << 20;  // a guest with thousands of sockets stays below this

class Connection {
 public:
  Connection(const std::string& path, Clock::time_point deadline) : deadline_(deadline) {
    sockaddr_un address{};
    if (path.size() >= sizeof(address.sun_path))
      fail(ErrorCode::InvalidArgument, "vsock socket path too long: " + path);
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0 || (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 &&
                    errno != EINPROGRESS))
      fail(ErrorCode::Unavailable, "cannot connect to " + path + ": " + std::strerror(errno));
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  void send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      wait(POLLOUT);
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0)
        fail(ErrorCode::Unavailable, std::string("sending failed: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
  }
  // Reads up to and including '\n' (Firecracker's "OK <port>\n"), at most 64 bytes.
  std::string line() {
    std::string out;
    char c = 0;
    while (out.size() < 64) {
      wait(POLLIN);
      const ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) break;
      out.push_back(c);
      if (c == '\n') return out;
    }
    fail(ErrorCode::Unavailable, "the agent is not listening (yet)");
  }
  std::string rest() {
    std::string out;
    char buffer[16384];
    for (;;) {
      wait(POLLIN);
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return out;
      out.append(buffer, static_cast<size_t>(n));
      if (out.size() > kMaxAnswer)
        fail(ErrorCode::InvalidArgument, "the agent's answer is over 1 MiB");
    }
  }

 private:
  void wait(short events) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    pollfd p{fd_, events, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0)
      fail(ErrorCode::Timeout, "the agent did not answer in time");
  }
  int fd_ = -1;
  Clock::time_point deadline_;
};

template <class T>
T field(const Json& object, const char* key, const char* what) {
  if (!object.is_object() || !object.contains(key))
    fail(ErrorCode::InvalidArgument, std::string("the agent's ") + what + " has no '" + key + "'");
  try {
    return object.at(key).get<T>();
  } catch (const Json::exception&) {
    fail(ErrorCode::InvalidArgument,
         std::string("the agent's ") + what + " has a '" + key + "' of the wrong type");
  }
}

Json parseJson(std::string_view body, const char* what) {
  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    fail(ErrorCode::InvalidArgument, std::string("the agent's ") + what + " is not a JSON object");
  return parsed;
}

}  // namespace

std::string agentAnswerBody(std::string_view answer) {
  const size_t headEnd = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.", 0) != 0 || headEnd == std::string_view::npos)
    fail(ErrorCode::InvalidArgument, "the agent's answer is not HTTP");
  const size_t space = answer.find(' ');
  if (space == std::string_view::npos || space + 4 > headEnd)
    fail(ErrorCode::InvalidArgument, "the agent's answer has no status");
  const std::string_view status = answer.substr(space + 1, 3);
  if (status != "200")
    fail(ErrorCode::Failed, "the agent answered " + std::string(status) + ": " +
                                std::string(answer.substr(headEnd + 4, 200)));
  return std::string(answer.substr(headEnd + 4));
}

AgentHealth parseAgentHealth(std::string_view body) {
  const Json json = parseJson(body, "health");
  AgentHealth health;
  health.status = field<std::string>(json, "status", "health");
  health.bootId = field<std::string>(json, "boot_id", "health");
  health.uptimeSec = field<double>(json, "uptime_sec", "health");
  health.systemd = field<std::string>(json, "systemd", "health");
  if (health.bootId.size() > 64 || health.systemd.size() > 32)
    fail(ErrorCode::InvalidArgument, "the agent's health has oversized fields");
  return health;
}

std::vector<AgentPort> parseAgentPorts(std::string_view body) {
  const Json json = parseJson(body, "port list");
  if (!json.contains("ports") || !json["ports"].is_array())
    fail(ErrorCode::InvalidArgument, "the agent's port list has no 'ports' array");
  std::vector<AgentPort> out;
  for (const Json& entry : json["ports"]) {
    AgentPort port;
    port.proto = field<std::string>(entry, "proto", "port list");
    port.address = field<std::string>(entry, "address", "port list");
    port.port = field<uint16_t>(entry, "port", "port list");
    port.process = field<std::string>(entry, "process", "port list");
    port.pid = field<uint32_t>(entry, "pid", "port list");
    if ((port.proto != "tcp" && port.proto != "udp") || port.address.size() > 64 ||
        port.process.size() > 64)
      fail(ErrorCode::InvalidArgument, "the agent's port list has an entry out of shape");
    out.push_back(std::move(port));
  }
  return out;
}

std::string VsockAgentClient::get(const std::string& vsockPath, const std::string& path) {
  Connection connection(vsockPath, Clock::now() + timeout_);
  connection.send("CONNECT " + std::to_string(kAgentPort) + "\n");
  const std::string ok = connection.line();
  if (ok.rfind("OK ", 0) != 0)
    fail(ErrorCode::Unavailable, "Firecracker's vsock answered '" + ok + "' to CONNECT");
  connection.send("GET " + path + " HTTP/1.0\r\nHost: banger-agent\r\n\r\n");
  return agentAnswerBody(connection.rest());
}

AgentHealth VsockAgentClient::health(const std::string& vsockPath) {
  return parseAgentHealth(get(vsockPath, "/healthz"));
}

std::vector<AgentPort> VsockAgentClient::ports(const std::string& vsockPath) {
  return parseAgentPorts(get(vsockPath, "/ports"));
}

}  // namespace banger::vm
