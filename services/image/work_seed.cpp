#include "work_seed.h"

#include "banger/ext4/subtree_export.h"
#include "banger/ext4/tar_writer.h"
#include "banger/log.h"
#include "layered_volume.h"

namespace banger::image {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;

struct RemoveOnExit {
  std::filesystem::path path;
  ~RemoveOnExit() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

}  // namespace

std::uint64_t buildWorkSeed(const std::filesystem::path& rootfs, const std::filesystem::path& seed,
                            const std::filesystem::path& scratch, const WorkSeedOptions& options) {
  RemoveOnExit scratchFile{scratch};
  ext4::ExportStats exported;
  {
    auto tar = ext4::TarWriter::toFile(scratch.string());
    exported = ext4::exportSubtree(rootfs.string(), "/root", *tar,
                                   ext4::ExportLimits{.maxBytes = options.limits.maxBytes,
                                                      .maxEntries = options.limits.maxEntries});
    tar->close();
  }
  if (!exported.found)
    log::info(rootfs.string() + " has no /root directory; the work seed is empty");
  if (exported.leftOut)
    log::info(rootfs.string() + ": " + std::to_string(exported.leftOut) +
              " devices, FIFOs or sockets in /root are not in the work seed");

  std::string fixups;
  {
    auto tar = ext4::TarWriter::toMemory(fixups);
    tar->directory("./", ext4::TarMeta{.mode = 0755, .mtime = options.timestamp});
    tar->directory("./.ssh/", ext4::TarMeta{.mode = 0700, .mtime = options.timestamp});
    tar->close();
  }
  const std::string scratchPath = scratch.string();
  std::vector<LayerInput> layers = {
      {[&] { return ext4::TarReader::openMemory(fixups.data(), fixups.size(), "banger's /root"); },
       fixups.size()},
      {[&] { return ext4::TarReader::openFile(scratchPath, rootfs.string() + ":/root"); },
       exported.bytes},
  };
  LayeredVolume spec{
      .format =
          ext4::FormatOptions{
              .sizeBytes = (exported.bytes + exported.entries * 4096) * 5 / 4 + 32 * kMiB,
              .bytesPerInode = 8192,
              .journal = true,
              .uuid = options.uuid,
              .hashSeed = options.hashSeed,
              .timestamp = options.timestamp,
              .label = "banger-work"},
      .limits = options.limits};
  spec.format.sizeBytes = (spec.format.sizeBytes + kMiB - 1) / kMiB * kMiB;
  writeLayeredVolume(seed.string(), layers, spec);
  return exported.entries;
}

}  // namespace banger::image
