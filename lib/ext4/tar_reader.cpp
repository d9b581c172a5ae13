#include "banger/ext4/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include "banger/errors.h"

namespace banger::ext4 {
namespace {

constexpr std::size_t kReadBlockBytes = 1 << 20;

}  // namespace

TarReader::TarReader(std::string label) : archive_(archive_read_new()), label_(std::move(label)) {
  if (!archive_) fail(ErrorCode::Failed, "libarchive: out of memory");
  archive_read_support_filter_all(archive_);
  archive_read_support_format_tar(archive_);
}

TarReader::~TarReader() {
  if (archive_) archive_read_free(archive_);
}

void TarReader::failStream(const std::string& what) const {
  const char* detail = archive_error_string(archive_);
  fail(ErrorCode::IntegrityError,
       label_ + ": " + what + (detail ? std::string(": ") + detail : std::string()));
}

std::unique_ptr<TarReader> TarReader::openFile(const std::string& path, std::string label) {
  std::unique_ptr<TarReader> reader(new TarReader(std::move(label)));
  if (archive_read_open_filename(reader->archive_, path.c_str(), kReadBlockBytes) != ARCHIVE_OK)
    reader->failStream("cannot open " + path);
  return reader;
}

std::unique_ptr<TarReader> TarReader::openFd(int fd, std::string label) {
  std::unique_ptr<TarReader> reader(new TarReader(std::move(label)));
  if (archive_read_open_fd(reader->archive_, fd, kReadBlockBytes) != ARCHIVE_OK)
    reader->failStream("cannot read the stream");
  return reader;
}

std::unique_ptr<TarReader> TarReader::openMemory(const void* data, std::size_t size,
                                                 std::string label) {
  std::unique_ptr<TarReader> reader(new TarReader(std::move(label)));
  if (archive_read_open_memory(reader->archive_, data, size) != ARCHIVE_OK)
    reader->failStream("cannot read the archive");
  return reader;
}

bool TarReader::next() {
  int rc = archive_read_next_header(archive_, &entry_);
  if (rc == ARCHIVE_EOF) return false;
  // ARCHIVE_WARN is a name that did not convert to the locale: the entry itself is fine.
  if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) return true;
  failStream(archive_file_count(archive_) == 0 ? "not a readable tar archive"
                                               : "corrupt or truncated archive");
}

std::string TarReader::path() const {
  if (const char* utf8 = archive_entry_pathname_utf8(entry_)) return utf8;
  const char* raw = archive_entry_pathname(entry_);
  return raw ? raw : "";
}

std::string TarReader::hardlinkTarget() const {
  if (const char* utf8 = archive_entry_hardlink_utf8(entry_)) return utf8;
  const char* raw = archive_entry_hardlink(entry_);
  return raw ? raw : "";
}

std::string TarReader::symlinkTarget() const {
  if (const char* utf8 = archive_entry_symlink_utf8(entry_)) return utf8;
  const char* raw = archive_entry_symlink(entry_);
  return raw ? raw : "";
}

bool TarReader::readBlock(const void*& data, std::size_t& size, std::int64_t& offset) {
  la_int64_t at = 0;
  int rc = archive_read_data_block(archive_, &data, &size, &at);
  if (rc == ARCHIVE_EOF) return false;
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) failStream("corrupt or truncated data in " + path());
  offset = at;
  return true;
}

}  // namespace banger::ext4
