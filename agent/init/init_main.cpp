// banger-init: PID 1 of every banger VM, from the initrd or as init= (docs/guest.md).
// On any failure it prints one line naming the step and the device, then ends the VM:
// a guest reboot is how a Firecracker VM ends (reboot=k; Firecracker has no power-off).
#include <sys/reboot.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "boot_params.h"
#include "boot_steps.h"
#include "whole_file.h"

namespace {

std::string summary(const banger::guest::BootParams& params) {
  std::string line = "/ is the overlay of " + params.overlayDevice + " over " + params.baseDevice +
                     ", /root is " + params.workDevice;
  if (params.network) {
    line +=
        ", eth0 " + params.network->address.str() + "/" + std::to_string(params.network->prefix);
    if (params.network->gateway) line += " via " + params.network->gateway->str();
  }
  return line + "; starting " + params.init;
}

[[noreturn]] void endVm() {
  ::sync();
  ::reboot(RB_AUTOBOOT);
  std::fprintf(stderr, "banger-init: reboot: %s; exiting instead\n", std::strerror(errno));
  ::_exit(1);  // the kernel panics, and panic=1 resets the VM
}

}  // namespace

int main(int, char**, char** environment) {
  using namespace banger::guest;
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  try {
    mountApiFilesystems();
    BootParams params;
    try {
      params = parseBootParams(readWholeFile("/proc/cmdline"));
    } catch (const BootParamError& error) {
      throw BootStepError("command line", error.what());
    }
    const auto moduleFailures = loadModules("/lib/modules");
    waitForDevices(params, moduleFailures);
    const std::string newRoot = assembleRoot(params, "/mnt", moduleFailures);
    configureGuest(params, newRoot);
    std::fprintf(stderr, "banger-init: %s\n", summary(params).c_str());
    switchRoot(newRoot, params.init, environment);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "banger-init: %s\n", error.what());
  }
  endVm();
}
