// Which scheme a guest's TCP port speaks, for the url in Ports: "https" when a TLS
// handshake succeeds and an HTTP answer comes back through it, "http" when a plain GET
// gets an HTTP answer, "" for anything else. The guest's certificate is not checked:
// nothing read here is trusted, the answer only picks a URL's scheme.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace banger::vm {

std::string probeWebScheme(const std::string& ipv4, uint16_t port,
                           std::chrono::milliseconds timeout);

}  // namespace banger::vm
