#include "layered_volume.h"

#include <algorithm>

#include "banger/log.h"

namespace banger::image {

std::uint64_t guessImageBytes(std::uint64_t compressedBytes) {
  constexpr std::uint64_t kMiB = 1 << 20;
  const std::uint64_t bytes = compressedBytes * 4 + compressedBytes / 4 + 64 * kMiB;
  return (bytes + kMiB - 1) / kMiB * kMiB;
}

ext4::BuildStats writeLayeredVolume(const std::string& target,
                                    const std::vector<LayerInput>& newestFirst,
                                    const LayeredVolume& spec) {
  constexpr int kAttempts = 3;
  std::uint64_t total = 0;
  for (const auto& layer : newestFirst) total += layer.bytes;
  ext4::FormatOptions format = spec.format;
  for (int attempt = 1;; ++attempt) {
    try {
      ext4::Volume volume(target, format);
      ext4::ImageBuilder builder(volume, spec.limits);
      if (spec.configure) spec.configure(builder);
      std::uint64_t before = 0;
      for (const auto& layer : newestFirst) {
        auto reader = layer.open();
        if (spec.progress) {
          ext4::TarReader* current = reader.get();
          builder.onProgress([&, current](std::uint64_t) {
            spec.progress(before + std::min<std::uint64_t>(current->consumedBytes(), layer.bytes),
                          total);
          });
        }
        builder.addLayer(*reader, layer.rereadable ? layer.open : ext4::LayerReopener{});
        before += layer.bytes;
        if (spec.progress) spec.progress(before, total);
      }
      builder.onProgress({});
      return builder.finish();
    } catch (const ext4::VolumeFull& full) {
      const bool rereadable = std::all_of(newestFirst.begin(), newestFirst.end(),
                                          [](const LayerInput& layer) { return layer.rereadable; });
      if (attempt == kAttempts || !rereadable) throw;
      log::info(target + ": " + full.what() + "; trying again at twice the size");
      format.sizeBytes *= 2;
      format.bytesPerInode = std::max<std::uint32_t>(4096, format.bytesPerInode / 2);
    }
  }
}

}  // namespace banger::image
