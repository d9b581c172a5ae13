#include "agent_client.h"

#include <nlohmann/json.hpp>

#include "banger/errors.h"
#include "stream_http.h"

namespace banger::vm {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxAnswer = 1 << 20;  // a guest with thousands of sockets stays below this

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

std::string okBody(HttpAnswer answer) {
  if (answer.status != 200)
    fail(ErrorCode::Failed,
         "the agent answered " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200));
  return std::move(answer.body);
}

}  // namespace

std::string agentAnswerBody(std::string_view answer) {
  // The agent closes after answering an HTTP/1.0 request, so the bytes end there.
  return okBody(*parseHttpAnswer(answer, true, kMaxAnswer, "the agent"));
}

AgentHealth parseAgentHealth(std::string_view body) {
  const Json json = parseJson(body, "health");
  AgentHealth health;
  health.status = field<std::string>(json, "status", "health");
  health.bootId = field<std::string>(json, "boot_id", "health");
  health.uptimeSec = field<double>(json, "uptime_sec", "health");
  // Absent when not asked for (/healthz?systemd=no).
  if (json.contains("systemd")) health.systemd = field<std::string>(json, "systemd", "health");
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

AgentExecResult parseAgentExecResult(std::string_view body) {
  const Json json = parseJson(body, "script result");
  AgentExecResult result;
  result.exitCode = field<int>(json, "exit_code", "script result");
  result.signal = field<int>(json, "signal", "script result");
  result.stderrText = field<std::string>(json, "stderr", "script result");
  if (result.exitCode < -1 || result.exitCode > 255 || result.signal < 0 || result.signal > 64 ||
      (result.exitCode == -1) == (result.signal == 0) || result.stderrText.size() > 4096)
    fail(ErrorCode::InvalidArgument, "the agent's script result is out of shape");
  return result;
}

StreamSocket connectToAgent(const std::string& vsockPath, std::chrono::milliseconds timeout) {
  StreamSocket connection = StreamSocket::unixSocket(
      vsockPath, StreamSocket::Clock::now() + timeout, "the agent (through Firecracker's vsock)");
  connection.send("CONNECT " + std::to_string(kAgentPort) + "\n");
  const std::string ok = connection.line(64);
  if (ok.rfind("OK ", 0) != 0)
    fail(ErrorCode::Unavailable, "Firecracker's vsock answered '" + ok + "' to CONNECT");
  return connection;
}

std::string VsockAgentClient::get(const std::string& vsockPath, const std::string& path) {
  StreamSocket connection = connectToAgent(vsockPath, timeout_);
  connection.send("GET " + path + " HTTP/1.0\r\nHost: banger-agent\r\n\r\n");
  return okBody(connection.answer(kMaxAnswer));
}

AgentHealth VsockAgentClient::health(const std::string& vsockPath, bool askSystemd) {
  // An agent older than the parameter ignores it and says systemd's state all the same.
  return parseAgentHealth(get(vsockPath, askSystemd ? "/healthz" : "/healthz?systemd=no"));
}

std::vector<AgentPort> VsockAgentClient::ports(const std::string& vsockPath) {
  return parseAgentPorts(get(vsockPath, "/ports"));
}

}  // namespace banger::vm
