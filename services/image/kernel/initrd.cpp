#include "initrd.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <memory>

#include "banger/errors.h"
#include "banger/ext4/archive_error.h"
#include "guest_layout.h"

namespace banger::image {
namespace {

struct Entry {
  std::string path;
  mode_t type;
  mode_t permissions;
  const std::string* data = nullptr;
  dev_t device = 0;
};

la_ssize_t appendTo(archive*, void* context, const void* buffer, std::size_t size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(buffer), size);
  return static_cast<la_ssize_t>(size);
}

struct WriterFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

}  // namespace

std::string buildInitrd(const std::string& init, const std::vector<KernelModule>& modules,
                        std::int64_t mtime) {
  const std::string modulesDir = std::string(guest::kModulesInInitrd).substr(1);
  std::vector<Entry> entries = {
      {"dev", AE_IFDIR, 0755},
      {"dev/console", AE_IFCHR, 0600, nullptr, makedev(5, 1)},
      {std::string(guest::kInitInInitrd).substr(1), AE_IFREG, 0755, &init},
      {"lib", AE_IFDIR, 0755},
      {modulesDir, AE_IFDIR, 0755},
  };
  for (const KernelModule& module : modules)
    entries.push_back({modulesDir + "/" + module.name + ".ko", AE_IFREG, 0644, &module.bytes});
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });

  std::string out;
  std::unique_ptr<archive, WriterFree> writer(archive_write_new());
  archive_write_set_format_cpio_newc(writer.get());
  archive_write_set_bytes_per_block(writer.get(), 0);  // no padding beyond the trailer's own
  if (archive_write_open(writer.get(), &out, nullptr, appendTo, nullptr) != ARCHIVE_OK)
    fail(ErrorCode::Failed, "initrd: " + ext4::archiveError(writer.get()));
  std::int64_t inode = 1;
  for (const Entry& item : entries) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        archive_entry_free);
    archive_entry_set_pathname(entry.get(), item.path.c_str());
    archive_entry_set_filetype(entry.get(), item.type);
    archive_entry_set_perm(entry.get(), item.permissions);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), mtime, 0);
    archive_entry_set_ino64(entry.get(), inode++);
    archive_entry_set_nlink(entry.get(), item.type == AE_IFDIR ? 2 : 1);
    if (item.type == AE_IFCHR) archive_entry_set_rdev(entry.get(), item.device);
    archive_entry_set_size(entry.get(), item.data ? static_cast<la_int64_t>(item.data->size()) : 0);
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK ||
        (item.data && archive_write_data(writer.get(), item.data->data(), item.data->size()) !=
                          static_cast<la_ssize_t>(item.data->size())))
      fail(ErrorCode::Failed,
           "initrd: writing " + item.path + ": " + ext4::archiveError(writer.get()));
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK)
    fail(ErrorCode::Failed, "initrd: " + ext4::archiveError(writer.get()));
  return out;
}

}  // namespace banger::image
