#include "vm_config.h"

namespace fcfake {

std::string VmConfig::kernelCommandLine(bool pciEnabled) const {
  std::string line = bootSource && bootSource->bootArgs ? *bootSource->bootArgs : kDefaultBootArgs;
  if (!pciEnabled) line += " pci=off";
  for (const Drive& drive : drives) {
    if (!drive.isRootDevice) continue;
    line += drive.partuuid ? " root=PARTUUID=" + *drive.partuuid : std::string(" root=/dev/vda");
    line += drive.isReadOnly ? " ro" : " rw";
  }
  return line;
}

std::vector<const Drive*> VmConfig::drivesInGuestOrder() const {
  std::vector<const Drive*> order;
  for (const Drive& drive : drives)
    if (drive.isRootDevice) order.push_back(&drive);
  for (const Drive& drive : drives)
    if (!drive.isRootDevice) order.push_back(&drive);
  return order;
}

}  // namespace fcfake
