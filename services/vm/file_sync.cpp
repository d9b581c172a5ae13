#include "file_sync.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "banger/errors.h"
#include "banger/files.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxFileBytes = 256ull << 20;

std::string readHostFile(const fs::path& path) {
  if (fs::file_size(path) > kMaxFileBytes)
    fail(ErrorCode::InvalidArgument, path.string() +
                                         " is over 256 MiB; file_sync is for "
                                         "configuration, not data");
  auto content = readTextFileIfExists(path);
  if (!content) fail(ErrorCode::NotFound, path.string() + " vanished while it was copied");
  return *content;
}

uint32_t permissions(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    fail(ErrorCode::Failed, "cannot stat " + path.string() + ": " + std::strerror(errno));
  return st.st_mode & 07777;
}

void copyTree(ext4::FileEditor& editor, const fs::path& host, const std::string& guest) {
  editor.directory(guest, {permissions(host), 0, 0});
  for (auto it = fs::recursive_directory_iterator(host); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path& source = it->path();
    const std::string target = guest + "/" + source.lexically_relative(host).generic_string();
    const fs::file_status status = it->symlink_status();
    if (fs::is_symlink(status)) {
      editor.symlink(target, fs::read_symlink(source).string(), {0777, 0, 0});
    } else if (fs::is_directory(status)) {
      editor.directory(target, {permissions(source), 0, 0});
    } else if (fs::is_regular_file(status)) {
      editor.file(target, readHostFile(source), {permissions(source), 0, 0});
    }
    // Sockets, FIFOs and devices have no meaning in another machine; they are left out.
  }
}

}  // namespace

std::string workDiskPath(const std::string& guestPath) {
  if (guestPath.rfind("~/", 0) == 0) return guestPath.substr(1);
  if (guestPath.rfind("/root/", 0) == 0) return guestPath.substr(5);
  fail(ErrorCode::InvalidArgument, guestPath + " is not under ~/ or /root/");
}

void syncFiles(ext4::FileEditor& editor, const std::vector<FileSyncEntry>& entries,
               const std::function<void(const std::string&)>& warn) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const FileSyncEntry& entry = entries[i];
    const std::string label =
        "file_sync entry " + std::to_string(i + 1) + " (" + entry.host + " → " + entry.guest + ")";
    std::error_code ec;
    const fs::file_status status = fs::status(entry.host, ec);
    if (ec || !fs::exists(status)) {
      warn(label + ": " + entry.host + " does not exist; skipped");
      continue;
    }
    try {
      const std::string target = workDiskPath(entry.guest);
      const size_t slash = target.rfind('/');
      if (slash > 0) editor.makeDirectories(target.substr(0, slash));
      if (fs::is_directory(status))
        copyTree(editor, entry.host, target);
      else
        editor.file(target, readHostFile(entry.host), {entry.mode.value_or(0600), 0, 0});
    } catch (const Error& error) {
      fail(error.code(), label + ": " + error.what());
    } catch (const std::exception& error) {
      fail(ErrorCode::Failed, label + ": " + error.what());
    }
  }
}

}  // namespace banger::vm
