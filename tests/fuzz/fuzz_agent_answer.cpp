// libFuzzer target for the Vm service's reading of HTTP answers (stream_http.h) from
// Firecracker's API socket and from banger-agent: bytes from inside a guest, so untrusted.
// Only banger::Error may come out; what is accepted holds the shapes the service relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent_client.h"
#include "banger/errors.h"
#include "stream_http.h"

namespace {

// Open or hung up, the bytes get "more, please", an answer or a banger::Error; a hung-up
// stream is never left waiting, and an answer never holds more body than allowed or given.
void checkIncremental(std::string_view bytes) {
  constexpr std::size_t kMaxBody = 4096;
  for (const bool closed : {false, true}) {
    try {
      const auto answer = banger::vm::parseHttpAnswer(bytes, closed, kMaxBody, "fuzz");
      if (closed && !answer) std::abort();  // a closed stream always gets a verdict
      if (answer && (answer->body.size() > kMaxBody || answer->body.size() > bytes.size() ||
                     answer->status < 100 || answer->status > 999))
        std::abort();
    } catch (const banger::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  checkIncremental(bytes);
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
  try {
    const auto result = banger::vm::parseAgentExecResult(body);
    if (result.exitCode > 255 || (result.exitCode == -1) == (result.signal == 0) ||
        result.stderrText.size() > 4096)
      std::abort();
  } catch (const banger::Error&) {
  }
  return 0;
}
