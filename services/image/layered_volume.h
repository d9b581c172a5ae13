// An ext4 file written from a stack of tar layers by the one-pass writer, when the size
// must be guessed before the content is seen (a layer's uncompressed size is not known
// until it is read). A guess that proves too small (VolumeFull) is retried twice, each
// time twice as large and with twice the inodes, when every layer can be read again; any
// other failure is final.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "banger/ext4/image_builder.h"
#include "banger/ext4/tar_reader.h"
#include "banger/ext4/volume.h"

namespace banger::image {

struct LayerInput {
  std::function<std::unique_ptr<ext4::TarReader>()> open{};
  std::uint64_t bytes = 0;  // as stored (compressed), for progress
  // False for a stream (a program's output): it is opened once, so neither a hidden hard
  // link's bytes nor a larger second attempt can read it again.
  bool rereadable = true;
};

struct LayeredVolume {
  ext4::FormatOptions format;  // sizeBytes and bytesPerInode are the first guess
  ext4::BuildLimits limits{};
  std::function<void(ext4::ImageBuilder&)> configure{};  // e.g. exclusions
  // Bytes of the layers read so far, out of the sum of LayerInput::bytes; may throw to
  // stop (a canceled job).
  std::function<void(std::uint64_t done, std::uint64_t total)> progress{};
};

// Writes `target` from `newestFirst`; returns the writer's statistics. On failure the
// target may be left behind: it belongs in a staging directory the caller discards.
ext4::BuildStats writeLayeredVolume(const std::string& target,
                                    const std::vector<LayerInput>& newestFirst,
                                    const LayeredVolume& spec);

// A first guess for an image whose layers are `compressedBytes`: four times that plus
// room for metadata, rounded to MiB.
std::uint64_t guessImageBytes(std::uint64_t compressedBytes);

}  // namespace banger::image
