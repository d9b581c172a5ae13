// The work seed (DESIGN §5): an ext4 holding the image's /root, the template of every
// VM's work disk. Its root is 0755 root:root and .ssh 0700 root:root whatever the image
// had, so sshd's StrictModes accepts the authorized_keys the Vm service writes there.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>

#include "banger/ext4/image_builder.h"

namespace banger::image {

struct WorkSeedOptions {
  std::array<std::uint8_t, 16> uuid{};      // zero: random
  std::array<std::uint8_t, 16> hashSeed{};  // zero: random
  std::int64_t timestamp = 0;
  ext4::BuildLimits limits{};
};

// Reads /root out of `rootfs` (through a tar at `scratch`, removed afterwards) into a new
// ext4 at `seed`. Returns how many entries of the image's /root it holds.
std::uint64_t buildWorkSeed(const std::filesystem::path& rootfs, const std::filesystem::path& seed,
                            const std::filesystem::path& scratch, const WorkSeedOptions& options);

}  // namespace banger::image
