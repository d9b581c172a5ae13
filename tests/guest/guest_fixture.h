// What the guest tests share, made once per run: images pulled by the Image service from
// a local registry (a Debian bookworm rootfs with systemd and sshd, the same without sshd,
// and the same without systemd), banger's initrd, and a bridge in a network namespace of the test's
// own; and VMs booted from them under firecracker-sim the way banger boots one — base read-only,
// overlay and work disks, the banger.* command line rendered by agent/boot_params.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "stand_in.h"

namespace banger::test {

struct GuestVm {
  std::string name, address;  // address empty: no network
  std::string bootArgs;
  std::string tap;     // its TAP in the test's namespace; empty: no network
  bool initrd = true;  // false: the kernel boots the base disk's init= (no initrd)
  std::filesystem::path dir, base, overlay, work;
  std::unique_ptr<fcfake::test::StandIn> sim;

  // `command` as root over SSH with the key on the work disk, from the test's namespace.
  Shell ssh(const std::string& command) const;
  // An interactive login on a terminal (ssh -tt) whose keyboard types `input`: what the
  // user would see, banner and prompt included.
  Shell login(const std::string& input) const;
  bool sshReady(std::chrono::seconds timeout) const;
  // The agent's answer to GET `path` through the VM's vsock socket; "" unless 200.
  std::string agent(const std::string& path) const;
  std::string console() const;
  std::string diagnostics() const;  // console and the simulator's stderr
  // Boots a new simulator on the same disks (the previous one must have ended).
  void restart();
};

class GuestFixture : public ::testing::Test {
 protected:
  // Builds or reuses the shared images and network; sets skipReason() when it cannot.
  static void SetUpSuite();
  static void TearDownSuite() {}
  static const std::string& skipReason();
  // The environment a client of the test's Image service runs with (its bus, its dirs).
  static std::map<std::string, std::string> clientEnvironment();
  // The default image's files and its kernel's, for tests that register them elsewhere.
  struct BootFiles {
    std::string rootfs, vmlinux, initrd;
  };
  static BootFiles defaultBootFiles();
  // The rootfs of "debian-bookworm", "nosshd", "nosystemd" or "denyroot", as the Image
  // service made it.
  static std::string imageRootfs(const std::string& image);
  // What the default image's pull said it was doing ("stage: detail"), in order.
  static const std::vector<std::string>& defaultImageStages();
  // A VM of image "debian-bookworm", "nosshd" or "nosystemd" on the bridge at `address`
  // (10.78.0.0/24), the bridge its gateway, `nameservers` in its resolv.conf.
  static GuestVm* bootImage(const std::string& image, const std::string& name,
                            const std::string& address,
                            const std::vector<std::string>& nameservers = {"10.78.0.1"});
  // A VM of `image` with no network and exactly `bangerArgs` after the console words;
  // without `initrd`, the kernel boots the base disk (`init=` must name banger-init).
  static GuestVm* bootBroken(const std::string& image, const std::string& name,
                             const std::string& bangerArgs, bool initrd = true);
};

}  // namespace banger::test
