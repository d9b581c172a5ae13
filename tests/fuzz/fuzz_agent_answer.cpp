// libFuzzer target for the Vm service's reading of banger-agent's answers: bytes from
// inside a guest, so untrusted. Only banger::Error may come out; what is accepted holds
// the shapes the service relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent_client.h"
#include "banger/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string body(bytes);
  try {
    body = banger::vm::agentAnswerBody(bytes);
    if (body.size() > size) std::abort();
  } catch (const banger::Error&) {
  }
  try {
    const auto health = banger::vm::parseAgentHealth(body);
    if (health.bootId.size() > 64 || health.systemd.size() > 32) std::abort();
  } catch (const banger::Error&) {
  }
  try {
    for (const auto& port : banger::vm::parseAgentPorts(body))
      if ((port.proto != "tcp" && port.proto != "udp") || port.process.size() > 64) std::abort();
  } catch (const banger::Error&) {
  }
  return 0;
}
