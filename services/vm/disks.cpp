#include "disks.h"

#include <sys/stat.h>

#include "banger/errors.h"
#include "banger/ext4/file_editor.h"
#include "banger/ext4/image_builder.h"
#include "banger/ext4/subtree_export.h"
#include "banger/ext4/tar_writer.h"
#include "banger/files.h"
#include "banger/process.h"
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

// e2fsprogs' tools live in /sbin, which a user's PATH often lacks.
std::string e2fsTool(const std::string& name) {
  const std::string found = findExecutable(name, "/usr/sbin:/sbin:/usr/bin:/bin");
  if (found.empty())
    fail(ErrorCode::Unavailable, name + " is not installed (Debian package e2fsprogs)");
  return found;
}

ProcessResult runTool(const std::vector<std::string>& argv) {
  return SystemProcessRunner().run(Command(argv));
}

fs::path undoFileOf(const fs::path& disk) { return disk.string() + ".grow-undo"; }

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

void growDisk(const fs::path& path, uint64_t bytes) {
  // 0: clean, 1: errors corrected (a journal replayed after a kill); more is trouble.
  const ProcessResult check = runTool({e2fsTool("e2fsck"), "-f", "-p", path.string()});
  if (check.exitCode != 0 && check.exitCode != 1)
    fail(ErrorCode::Failed, "checking " + path.string() + " before growing it failed (e2fsck " +
                                std::to_string(check.exitCode) + "): " + check.out + check.err);
  const fs::path undo = undoFileOf(path);
  std::error_code ignored;
  fs::remove(undo, ignored);
  const uint64_t before = fs::file_size(path);
  fs::resize_file(path, bytes);
  const ProcessResult grown = runTool({e2fsTool("resize2fs"), "-z", undo.string(), path.string()});
  if (!grown.ok()) {
    rollBackInterruptedGrowth(path, before);
    fail(ErrorCode::Failed, "growing " + path.string() + " to " + std::to_string(bytes) +
                                " bytes failed (resize2fs): " + grown.err + grown.out);
  }
  fs::remove(undo, ignored);
}

bool rollBackInterruptedGrowth(const fs::path& path, uint64_t bytes) {
  const fs::path undo = undoFileOf(path);
  if (!fs::exists(undo)) return false;
  const ProcessResult undone = runTool({e2fsTool("e2undo"), undo.string(), path.string()});
  if (!undone.ok())
    fail(ErrorCode::Failed, "undoing the interrupted growth of " + path.string() + " with " +
                                undo.string() + " failed: " + undone.err + undone.out);
  fs::resize_file(path, bytes);
  fs::remove(undo);
  return true;
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
