// ext4-write TAR IMAGE [SIZE_MIB]: banger's one-pass writer on one tar, as its own
// process so a benchmark can time it and read its peak RSS. Prints the build's figures.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "banger/ext4/image_builder.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ext4-write TAR IMAGE [SIZE_MIB]\n");
    return 2;
  }
  try {
    banger::ext4::FormatOptions format;
    format.sizeBytes = (argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1024) << 20;
    banger::ext4::Volume volume(argv[2], format);
    banger::ext4::ImageBuilder builder(volume, {});
    auto reader = banger::ext4::TarReader::openFile(argv[1], argv[1]);
    auto start = std::chrono::steady_clock::now();
    builder.addLayer(*reader);
    auto streamed = std::chrono::steady_clock::now();
    auto stats = builder.finish();
    auto finished = std::chrono::steady_clock::now();
    std::printf("stream %.3f s, metadata and close %.3f s\n",
                std::chrono::duration<double>(streamed - start).count(),
                std::chrono::duration<double>(finished - streamed).count());
    std::printf("entries %llu written %llu bytes %llu warnings %zu\n",
                static_cast<unsigned long long>(stats.entries),
                static_cast<unsigned long long>(stats.written),
                static_cast<unsigned long long>(stats.dataBytes), stats.warnings.size());
    for (const auto& warning : stats.warnings)
      std::fprintf(stderr, "warning: %s\n", warning.c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "ext4-write: %s\n", error.what());
    return 1;
  }
}
