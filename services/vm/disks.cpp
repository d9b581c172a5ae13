#include "disks.h"

#include <sys/stat.h>

#include <functional>

#include "banger/errors.h"
#include "banger/ext4/file_editor.h"
#include "banger/ext4/subtree_export.h"
#include "banger/files.h"
#include "banger/process.h"
#include "file_sync.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;

// Formats a fresh ext4 at a temporary name, lets `fill` write into it, then renames it
// into place, so a crash never leaves a half-made disk under the final name.
void writeDisk(const fs::path& path, uint64_t bytes, const std::string& label,
               const std::function<void(ext4::FileEditor&)>& fill) {
  const fs::path partial = path.string() + ".partial";
  try {
    ext4::FormatOptions format;
    format.sizeBytes = bytes;
    format.journal = true;
    format.label = label;
    ext4::FileEditor editor = ext4::FileEditor::formatNew(partial.string(), format);
    fill(editor);
    editor.close();
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

void provision(ext4::FileEditor& editor, const std::string& authorizedKey,
               const std::vector<FileSyncEntry>& fileSync, const Warn& warn) {
  editor.directory("/", {0755, 0, 0});
  editor.directory("/.ssh", {0700, 0, 0});
  editor.file("/.ssh/authorized_keys", authorizedKey + "\n", {0600, 0, 0});
  syncFiles(editor, fileSync, warn);
}

}  // namespace

DiskSet disksIn(const fs::path& machineDir) {
  return {machineDir / "overlay.ext4", machineDir / "work.ext4"};
}

void createOverlayDisk(const fs::path& path, uint64_t bytes, const KeyPair& hostKey) {
  writeDisk(path, bytes, "banger-overlay", [&](ext4::FileEditor& editor) {
    editor.directory("/upper/etc/ssh", {0755, 0, 0});
    editor.directory("/work", {0755, 0, 0});
    editor.file("/upper/etc/ssh/ssh_host_ed25519_key", hostKey.privateKey, {0600, 0, 0});
    editor.file("/upper/etc/ssh/ssh_host_ed25519_key.pub", hostKey.publicKey + "\n", {0644, 0, 0});
  });
}

void createWorkDisk(const fs::path& path, uint64_t bytes, const fs::path& workSeed,
                    const std::string& authorizedKey, const std::vector<FileSyncEntry>& fileSync,
                    const Warn& warn) {
  writeDisk(path, bytes, "banger-work", [&](ext4::FileEditor& editor) {
    ext4::EditorSink into(editor, "/");
    ext4::exportSubtree(workSeed.string(), "/", into, {});
    provision(editor, authorizedKey, fileSync, warn);
  });
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
  provision(editor, authorizedKey, fileSync, warn);
  editor.close();
}

}  // namespace banger::vm
