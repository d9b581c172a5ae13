#include "disks.h"

#include <sys/stat.h>

#include "banger/errors.h"
#include "banger/ext4/file_editor.h"
#include "banger/ext4/image_builder.h"
#include "banger/ext4/subtree_export.h"
#include "banger/ext4/tar_writer.h"
#include "file_sync.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;

// Writes `layer` into a fresh ext4 at a temporary name, then renames it into place, so a
// crash never leaves a half-made disk under the final name.
void writeDisk(const fs::path& path, uint64_t bytes, bool journal, const std::string& layer,
               const std::string& label) {
  const fs::path partial = path.string() + ".partial";
  try {
    ext4::FormatOptions format;
    format.sizeBytes = bytes;
    format.journal = journal;
    format.label = label;
    ext4::Volume volume(partial.string(), format);
    ext4::ImageBuilder builder(volume, {});
    auto reader = ext4::TarReader::openMemory(layer.data(), layer.size(), label);
    builder.addLayer(*reader);
    builder.finish();
    fs::rename(partial, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw;
  }
}

}  // namespace

DiskSet disksIn(const fs::path& machineDir) {
  return {machineDir / "overlay.ext4", machineDir / "work.ext4"};
}

void createOverlayDisk(const fs::path& path, uint64_t bytes, const KeyPair& hostKey) {
  std::string layer;
  {
    auto tar = ext4::TarWriter::toMemory(layer);
    const ext4::TarMeta directory{0755, 0, 0, 0};
    for (const char* dir : {"upper", "upper/etc", "upper/etc/ssh", "work"})
      tar->directory(dir, directory);
    tar->file("upper/etc/ssh/ssh_host_ed25519_key", {0600, 0, 0, 0}, hostKey.privateKey);
    tar->file("upper/etc/ssh/ssh_host_ed25519_key.pub", {0644, 0, 0, 0}, hostKey.publicKey + "\n");
    tar->close();
  }
  writeDisk(path, bytes, true, layer, "banger-overlay");
}

void createWorkDisk(const fs::path& path, uint64_t bytes, const fs::path& workSeed) {
  std::string layer;
  {
    auto tar = ext4::TarWriter::toMemory(layer);
    ext4::exportSubtree(workSeed.string(), "/", *tar, {});
    tar->close();
  }
  writeDisk(path, bytes, true, layer, "banger-work");
}

uint64_t allocatedBytes(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

void provisionWorkDisk(const fs::path& work, const std::string& authorizedKey,
                       const std::vector<FileSyncEntry>& fileSync, const Warn& warn) {
  ext4::FileEditor editor(work.string());
  editor.directory("/", {0755, 0, 0});
  editor.directory("/.ssh", {0700, 0, 0});
  editor.file("/.ssh/authorized_keys", authorizedKey + "\n", {0600, 0, 0});
  syncFiles(editor, fileSync, warn);
  editor.close();
}

}  // namespace banger::vm
