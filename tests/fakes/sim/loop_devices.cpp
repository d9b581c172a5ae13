#include "loop_devices.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "core/backend.h"
#include "core/vmm.h"

namespace fcfake::sim {

namespace {

LoopDevice attach(const Drive& drive, const std::string& guestName) {
  UniqueFd control(open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control) throw ApiError("Cannot open /dev/loop-control: " + osError(errno));
  for (int attempt = 0; attempt < 16; ++attempt) {
    const int number = ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (number < 0) throw ApiError("No free loop device: " + osError(errno));
    LoopDevice loop;
    loop.path = "/dev/loop" + std::to_string(number);
    loop.guestName = guestName;
    loop.readOnly = drive.isReadOnly;
    loop.device =
        UniqueFd(open(loop.path.c_str(), (drive.isReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC));
    if (!loop.device) throw ApiError("Cannot open " + loop.path + ": " + osError(errno));
    loop_config config{};
    config.fd = static_cast<__u32>(drive.file.get());
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (drive.isReadOnly ? LO_FLAGS_READ_ONLY : 0);
    std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), drive.pathOnHost.c_str(),
                 LO_NAME_SIZE - 1);
    if (ioctl(loop.device.get(), LOOP_CONFIGURE, &config) == 0) return loop;
    if (errno != EBUSY)
      throw ApiError("Cannot attach " + drive.pathOnHost + " to " + loop.path + ": " +
                     osError(errno));
    // Another process took that device between GET_FREE and CONFIGURE: ask again.
  }
  throw ApiError("No free loop device for " + drive.pathOnHost);
}

}  // namespace

std::vector<LoopDevice> attachDrives(const VmConfig& config) {
  std::vector<LoopDevice> loops;
  char letter = 'a';
  for (const Drive* drive : config.drivesInGuestOrder())
    loops.push_back(attach(*drive, std::string("vd") + letter++));
  return loops;
}

}  // namespace fcfake::sim
