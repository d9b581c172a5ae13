// What a microVM has been configured with through the API (or --config-file), with the
// host resources Firecracker opens at configuration time already open.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fcfake {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct BootSource {
  std::string kernelImagePath;
  std::optional<std::string> initrdPath;
  std::optional<std::string> bootArgs;  // absent: Firecracker's default command line
  UniqueFd kernel;
  UniqueFd initrd;
};

struct Drive {
  std::string id;
  std::string pathOnHost;
  bool isRootDevice = false;
  bool isReadOnly = false;
  std::optional<std::string> partuuid;
  std::string cacheType = "Unsafe";
  std::string ioEngine = "Sync";
  UniqueFd file;
};

struct NetworkInterface {
  std::string id;
  std::string hostDevName;
  std::optional<std::string> guestMac;
  std::optional<unsigned> mtu;
  UniqueFd tap;  // attached to the host TAP at PUT time
};

struct Vsock {
  std::uint32_t guestCid = 0;
  std::string udsPath;
  UniqueFd listener;  // bound and listening on uds_path
};

struct MachineConfig {
  unsigned vcpuCount = 1;
  unsigned memSizeMib = 128;
  bool smt = false;
  bool trackDirtyPages = false;
  std::string hugePages = "None";
};

struct VmConfig {
  std::string instanceId = "anonymous-instance";
  std::optional<BootSource> bootSource;
  std::vector<Drive> drives;  // in insertion order
  std::vector<NetworkInterface> networkInterfaces;
  std::optional<Vsock> vsock;
  MachineConfig machine;
  std::optional<std::string> serialOutPath;
  bool bootTimer = false;

  // The guest's /proc/cmdline as Firecracker builds it: boot_args (or the default),
  // then " pci=off" and the root device Firecracker appends.
  std::string kernelCommandLine(bool pciEnabled) const;
  // Root drive first, the rest in insertion order: vda, vdb, ...
  std::vector<const Drive*> drivesInGuestOrder() const;
};

inline constexpr const char* kDefaultBootArgs =
    "reboot=k panic=1 nomodule 8250.nr_uarts=0 i8042.noaux i8042.nomux i8042.dumbkbd "
    "swiotlb=noforce";

}  // namespace fcfake
