// The plain Debian bookworm guest for the simulator's tests, built once per build
// directory: the mmdebstrap root filesystem (tests/support/debian_rootfs.h) plus a unit
// that configures eth0 from "sim.ip=ADDR/PREFIX sim.gw=GATEWAY" on the command line, an
// SSH key for root, and vsock-probe units (an echo listener on port 5000; a greeting to
// the host's port 6000 at boot), and the host's iperf3 for the benchmark.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace fcfake::test {

struct SimImage {
  std::filesystem::path rootfs;  // ext4, never booted itself: copy it per VM
  std::filesystem::path sshKey;  // root's private key
};

// nullopt, with `why`, where it cannot be built (not root).
std::optional<SimImage> simImage(std::string& why);

// Why firecracker-sim cannot run here (not root, no systemd-nspawn), or "".
std::string simUnavailable();

}  // namespace fcfake::test
