// The guest's disks: one loop device per drive, read-only when the drive is, detached by
// the kernel when the last user goes (LO_FLAGS_AUTOCLEAR), so a killed simulator leaves
// none behind.
#pragma once

#include <string>
#include <vector>

#include "core/vm_config.h"

namespace fcfake::sim {

struct LoopDevice {
  std::string path;       // /dev/loopN
  std::string guestName;  // vda, vdb, ...
  bool readOnly = false;
  UniqueFd device;  // held open until the simulator ends
};

// In guest order: the root drive first.
std::vector<LoopDevice> attachDrives(const VmConfig& config);

}  // namespace fcfake::sim
