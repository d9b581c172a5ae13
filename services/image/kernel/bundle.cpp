#include "kernel/bundle.h"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <memory>

#include "banger/errors.h"
#include "banger/ext4/archive_error.h"

namespace banger::image {
namespace {

namespace fs = std::filesystem;

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// "./modules/x.ko" → "modules/x.ko"; empty for paths banger does not take.
std::string memberPath(std::string path, const std::string& label) {
  while (path.starts_with("./")) path.erase(0, 2);
  while (path.ends_with('/')) path.pop_back();
  if (path.empty() || path == ".") return "";
  if (path[0] == '/' || path == ".." || path.starts_with("../") ||
      path.find("/../") != std::string::npos || path.ends_with("/.."))
    fail(ErrorCode::InvalidArgument,
         label + ": the bundle entry " + path.substr(0, 200) + " leaves the bundle");
  if (path == "vmlinux" || path == "initrd.img" || path == "modules" ||
      path.starts_with("modules/"))
    return path;
  return "";
}

}  // namespace

BundleFiles unpackBundle(const std::string& path, const fs::path& into, const std::string& label) {
  std::unique_ptr<archive, ArchiveFree> reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  const auto corrupt = [&](const std::string& what) {
    fail(ErrorCode::InvalidArgument, label + ": " + what + ": " + ext4::archiveError(reader.get()));
  };
  if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    corrupt("cannot open the bundle");
  BundleFiles files;
  std::uint64_t total = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    const int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) corrupt("not a tar bundle, or corrupt");
    const char* utf8 = archive_entry_pathname_utf8(entry);
    const std::string name = memberPath(utf8 ? utf8 : archive_entry_pathname(entry), label);
    if (name.empty()) continue;
    const fs::path target = into / name;
    if (archive_entry_filetype(entry) == AE_IFDIR) {
      fs::create_directories(target);
      if (name == "modules") files.modules = target.string();
      continue;
    }
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry)) continue;
    fs::create_directories(target.parent_path());
    if (name.starts_with("modules/")) files.modules = (into / "modules").string();
    if (name == "vmlinux") files.vmlinux = target.string();
    if (name == "initrd.img") files.initrd = target.string();
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    const void* block = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      const int read = archive_read_data_block(reader.get(), &block, &size, &offset);
      if (read == ARCHIVE_EOF) break;
      if (read != ARCHIVE_OK) corrupt(name + " is truncated or corrupt");
      total += size;
      if (total > kMaxBundleBytes)
        fail(ErrorCode::InvalidArgument, label + ": the bundle unpacks past 1 GiB");
      out.seekp(offset);
      out.write(static_cast<const char*>(block), static_cast<std::streamsize>(size));
    }
    if (!out.flush()) fail(ErrorCode::Failed, "cannot write " + target.string());
  }
  if (files.vmlinux.empty())
    fail(ErrorCode::InvalidArgument, label + ": the bundle has no vmlinux");
  return files;
}

}  // namespace banger::image
