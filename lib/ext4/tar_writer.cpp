#include "banger/ext4/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "banger/errors.h"

namespace banger::ext4 {

TarWriter::TarWriter(std::string label) : archive_(archive_write_new()), label_(std::move(label)) {
  if (archive_ == nullptr) fail(ErrorCode::Failed, "cannot start a tar writer for " + label_);
  archive_write_set_format_pax_restricted(archive_);
  archive_write_set_bytes_in_last_block(archive_, 1);
}

TarWriter::~TarWriter() {
  if (archive_) archive_write_free(archive_);
  if (fd_ >= 0) ::close(fd_);
}

long TarWriter::writeCallback(archive*, void* self, const void* buffer, std::size_t length) {
  auto* writer = static_cast<TarWriter*>(self);
  if (writer->memory_) {
    writer->memory_->append(static_cast<const char*>(buffer), length);
    return static_cast<long>(length);
  }
  const char* bytes = static_cast<const char*>(buffer);
  std::size_t done = 0;
  while (done < length) {
    ssize_t n = ::write(writer->fd_, bytes + done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long>(length);
}

std::unique_ptr<TarWriter> TarWriter::toFile(const std::string& path) {
  std::unique_ptr<TarWriter> writer(new TarWriter(path));
  writer->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (writer->fd_ < 0)
    fail(ErrorCode::Failed, "cannot create " + path + ": " + std::strerror(errno));
  if (archive_write_open(writer->archive_, writer.get(), nullptr, &TarWriter::writeCallback,
                         nullptr) != ARCHIVE_OK)
    writer->failArchive("open");
  return writer;
}

std::unique_ptr<TarWriter> TarWriter::toMemory(std::string& out) {
  std::unique_ptr<TarWriter> writer(new TarWriter("a tar in memory"));
  writer->memory_ = &out;
  if (archive_write_open(writer->archive_, writer.get(), nullptr, &TarWriter::writeCallback,
                         nullptr) != ARCHIVE_OK)
    writer->failArchive("open");
  return writer;
}

void TarWriter::failArchive(const std::string& what) const {
  const char* detail = archive_error_string(archive_);
  fail(ErrorCode::Failed, "writing the tar " + label_ + " failed (" + what +
                              "): " + (detail ? detail : std::strerror(errno)));
}

void TarWriter::header(const std::string& path, unsigned type, const TarMeta& meta,
                       std::uint64_t size, const std::string* linkTarget) {
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname_utf8(entry, path.c_str());
  archive_entry_set_filetype(entry, type);
  archive_entry_set_perm(entry, meta.mode & 07777);
  archive_entry_set_uid(entry, static_cast<la_int64_t>(meta.uid));
  archive_entry_set_gid(entry, static_cast<la_int64_t>(meta.gid));
  archive_entry_set_mtime(entry, meta.mtime, 0);
  archive_entry_set_size(entry, static_cast<la_int64_t>(size));
  if (linkTarget) archive_entry_set_symlink_utf8(entry, linkTarget->c_str());
  int rc = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  if (rc != ARCHIVE_OK) failArchive("the header of " + path);
}

void TarWriter::data(std::string_view bytes) {
  while (!bytes.empty()) {
    la_ssize_t n = archive_write_data(archive_, bytes.data(), bytes.size());
    if (n <= 0) failArchive("data");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void TarWriter::directory(const std::string& path, const TarMeta& meta) {
  header(path, AE_IFDIR, meta, 0, nullptr);
}

void TarWriter::file(const std::string& path, const TarMeta& meta, std::string_view content) {
  header(path, AE_IFREG, meta, content.size(), nullptr);
  data(content);
}

void TarWriter::file(const std::string& path, const TarMeta& meta, std::uint64_t size,
                     const Producer& produce) {
  header(path, AE_IFREG, meta, size, nullptr);
  std::uint64_t written = 0;
  produce([&](std::string_view bytes) {
    if (bytes.size() > size - written)
      fail(ErrorCode::Failed, path + " grew while it was copied into " + label_);
    data(bytes);
    written += bytes.size();
  });
  if (written != size) fail(ErrorCode::Failed, path + " shrank while it was copied into " + label_);
}

void TarWriter::symlink(const std::string& path, const TarMeta& meta, const std::string& target) {
  header(path, AE_IFLNK, meta, 0, &target);
}

void TarWriter::close() {
  if (archive_write_close(archive_) != ARCHIVE_OK) failArchive("close");
  if (fd_ >= 0) {
    if (::close(fd_) != 0) {
      fd_ = -1;
      fail(ErrorCode::Failed, "cannot finish " + label_ + ": " + std::strerror(errno));
    }
    fd_ = -1;
  }
}

}  // namespace banger::ext4
