#include "tar_builder.h"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <stdexcept>

namespace banger::test {
namespace {

la_ssize_t appendToString(struct archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

void check(struct archive* writer, int rc, const char* what) {
  if (rc < ARCHIVE_WARN)
    throw std::runtime_error(std::string("tar builder: ") + what + ": " +
                             archive_error_string(writer));
}

}  // namespace

TarBuilder& TarBuilder::add(TarEntry entry) {
  entries_.push_back(std::move(entry));
  return *this;
}

TarBuilder& TarBuilder::file(std::string path, std::string content, unsigned mode) {
  return add(TarEntry{.type = TarEntry::Type::File,
                      .path = std::move(path),
                      .content = std::move(content),
                      .mode = mode});
}

TarBuilder& TarBuilder::dir(std::string path, unsigned mode) {
  return add(TarEntry{.type = TarEntry::Type::Dir, .path = std::move(path), .mode = mode});
}

TarBuilder& TarBuilder::symlink(std::string path, std::string target) {
  return add(TarEntry{.type = TarEntry::Type::Symlink,
                      .path = std::move(path),
                      .content = std::move(target),
                      .mode = 0777});
}

TarBuilder& TarBuilder::hardlink(std::string path, std::string target) {
  return add(TarEntry{
      .type = TarEntry::Type::Hardlink, .path = std::move(path), .content = std::move(target)});
}

std::string TarBuilder::bytes(Compression compression) const {
  std::string out;
  struct archive* writer = archive_write_new();
  archive_write_set_format_pax_restricted(writer);
  if (compression == Compression::Gzip) archive_write_add_filter_gzip(writer);
  if (compression == Compression::Zstd) archive_write_add_filter_zstd(writer);
  archive_write_set_bytes_in_last_block(writer, 1);
  check(writer, archive_write_open(writer, &out, nullptr, appendToString, nullptr), "open");
  for (const TarEntry& e : entries_) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_uid(entry, e.uid);
    archive_entry_set_gid(entry, e.gid);
    archive_entry_set_mtime(entry, e.mtime, 0);
    archive_entry_set_perm(entry, e.mode);
    std::string data;
    switch (e.type) {
      case TarEntry::Type::File:
        archive_entry_set_filetype(entry, AE_IFREG);
        if (e.sparseSize >= 0) {
          archive_entry_set_size(entry, e.sparseSize);
          data.assign(static_cast<std::size_t>(e.sparseSize), '\0');
          for (const auto& [offset, bytes] : e.sparseData) {
            archive_entry_sparse_add_entry(entry, offset, static_cast<la_int64_t>(bytes.size()));
            data.replace(static_cast<std::size_t>(offset), bytes.size(), bytes);
          }
        } else {
          archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
          data = e.content;
        }
        break;
      case TarEntry::Type::Dir:
        archive_entry_set_filetype(entry, AE_IFDIR);
        break;
      case TarEntry::Type::Symlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.content.c_str());
        break;
      case TarEntry::Type::Hardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.content.c_str());
        break;
      case TarEntry::Type::CharDevice:
      case TarEntry::Type::BlockDevice:
        archive_entry_set_filetype(entry,
                                   e.type == TarEntry::Type::CharDevice ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdevmajor(entry, e.major);
        archive_entry_set_rdevminor(entry, e.minor);
        break;
      case TarEntry::Type::Fifo:
        archive_entry_set_filetype(entry, AE_IFIFO);
        break;
    }
    for (const auto& [name, value] : e.xattrs)
      archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), value.size());
    if (!e.aclText.empty())
      check(writer,
            archive_entry_acl_from_text(entry, e.aclText.c_str(), ARCHIVE_ENTRY_ACL_TYPE_ACCESS),
            "acl");
    check(writer, archive_write_header(writer, entry), "header");
    if (!data.empty()) archive_write_data(writer, data.data(), data.size());
    archive_entry_free(entry);
  }
  check(writer, archive_write_close(writer), "close");
  archive_write_free(writer);
  return out;
}

void TarBuilder::writeTo(const std::string& file, Compression compression) const {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes(compression);
  if (!out) throw std::runtime_error("tar builder: cannot write " + file);
}

}  // namespace banger::test
