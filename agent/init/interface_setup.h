// eth0 as the boot parameters describe it, over rtnetlink (libnl-route): the kernel's
// `ip=` is not built into Debian's cloud kernel (IMAGE-NOTES §4), so banger-init does it.
#pragma once

#include <string>

#include "boot_params.h"

namespace banger::guest {

// Brings `lo` up.
void bringUpLoopback();

// `interface` up with the network's MTU and address, and the default route through its
// gateway if it has one. Throws std::runtime_error naming the interface and the step.
void configureInterface(const std::string& interface, const GuestNetwork& network);

}  // namespace banger::guest
