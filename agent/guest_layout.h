// Where banger's guest side lives inside every image and on the vsock, shared by the
// Image service (which writes it into images and initrds) and the Vm service (which
// boots and asks it). docs/guest.md states the same.
#pragma once

namespace banger::guest {

inline constexpr unsigned kAgentVsockPort = 1024;  // the first unprivileged port, as Kata's
inline constexpr const char* kInitInImage = "/usr/lib/banger/banger-init";  // for init=
inline constexpr const char* kAgentInImage = "/usr/lib/banger/banger-agent";
inline constexpr const char* kAgentUnit = "banger-agent.service";
inline constexpr const char* kInitInInitrd = "/init";
inline constexpr const char* kModulesInInitrd = "/lib/modules";  // flat: <name>.ko

}  // namespace banger::guest
