// The host resources Firecracker takes hold of while it is configured, each failing with
// Firecracker's own words.
#pragma once

#include <sys/types.h>

#include <string>

#include "vm_config.h"

namespace fcfake {

// Attaches to an existing TAP as Firecracker running as `caller` does (TUNSETIFF,
// IFF_TAP | IFF_NO_PI): a missing TAP or another uid's fails with EPERM, a device that
// is no TAP with EINVAL, one another process holds with EBUSY, even when this process is
// root and could create or take it. Throws ApiError with the text after "Network config
// error: ".
UniqueFd attachTap(const std::string& name, uid_t caller);

// Binds and listens on uds_path (refused when the path exists). Throws ApiError with the
// text after "Vsock config error: ".
UniqueFd bindVsockSocket(const std::string& path);

}  // namespace fcfake

namespace fcfake {
// Where the guest's serial console goes: serial_out_path (created if missing, written
// from its start without truncating, as Firecracker opens it) or this process's stdout.
UniqueFd openConsole(const VmConfig& config);
}  // namespace fcfake
