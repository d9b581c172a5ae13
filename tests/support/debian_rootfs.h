// A real Debian bookworm root filesystem as a tar (mmdebstrap minbase + systemd-sysv,
// openssh-server, iproute2, ca-certificates, iputils-ping: ~210 MB, ~11k entries), built once and
// kept in the build directory for the tests and benchmarks that need one.
#pragma once

#include <optional>
#include <string>

namespace banger::test {

// The tar's path, building it first if it is missing; nullopt (with `why` set) when not
// root (mmdebstrap's root mode). A failed build throws.
std::optional<std::string> debianRootfsTar(std::string& why);

}  // namespace banger::test
