// libFuzzer target for the whole writer: any byte string, read as a (possibly
// compressed) tar layer, becomes an image or is refused with banger::Error; nothing
// else may escape, crash or leak.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "banger/errors.h"
#include "banger/ext4/image_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string image = "/dev/shm/banger-fuzz-tar-" + std::to_string(getpid()) + ".ext4";
  try {
    banger::ext4::Volume volume(image, banger::ext4::FormatOptions{.sizeBytes = 16ull << 20});
    banger::ext4::ImageBuilder builder(
        volume, banger::ext4::BuildLimits{.maxBytes = 8 << 20, .maxEntries = 4096});
    auto layer = banger::ext4::TarReader::openMemory(data, size, "fuzz");
    builder.addLayer(*layer,
                     [&] { return banger::ext4::TarReader::openMemory(data, size, "fuzz"); });
    builder.finish();
  } catch (const banger::Error&) {
  }
  unlink(image.c_str());
  return 0;
}
