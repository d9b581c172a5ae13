// The OpenSSH master connection the Vm service and the CLI share for one VM (ControlPath).
#pragma once

#include <chrono>
#include <string>

namespace banger::vm {

// Ends the master listening on `controlPath`, if one does, and waits up to `wait` for it to
// be gone, so its connection has been closed (FIN sent) when this returns. Asked over the
// socket itself, as `ssh -O exit` asks, without starting a process; one run by another
// user is left alone. Removes the socket file either way. False when a master was found
// and had not gone within `wait`.
bool endSshMaster(const std::string& controlPath, std::chrono::milliseconds wait);

// Whether a master of this user listens on `controlPath`, asked of the socket.
bool sshMasterListens(const std::string& controlPath);

}  // namespace banger::vm
