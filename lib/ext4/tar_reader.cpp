#include "banger/ext4/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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
  if (mapped_) ::munmap(mapped_, mappedBytes_);
}

void TarReader::failStream(const std::string& what) const {
  const char* detail = archive_error_string(archive_);
  fail(ErrorCode::IntegrityError,
       label_ + ": " + what + (detail ? std::string(": ") + detail : std::string()));
}

// libarchive reads a mapped file window by window; windows it is done with are dropped
// from this process's memory (the page cache keeps them), so RSS stays at a few windows
// whatever the layer's size.
la_ssize_t TarReader::readWindow(struct archive*, void* self, const void** buffer) {
  auto* reader = static_cast<TarReader*>(self);
  if (reader->windowStart_ < reader->windowEnd_) {
    std::size_t done = reader->windowStart_ & ~(kReadBlockBytes - 1);  // page aligned
    if (done > reader->dropped_) {
      ::madvise(static_cast<char*>(reader->mapped_) + reader->dropped_, done - reader->dropped_,
                MADV_DONTNEED);
      reader->dropped_ = done;
    }
  }
  reader->windowStart_ = reader->windowEnd_;
  std::size_t size = std::min(kReadBlockBytes, reader->mappedBytes_ - reader->windowStart_);
  reader->windowEnd_ = reader->windowStart_ + size;
  *buffer = static_cast<char*>(reader->mapped_) + reader->windowStart_;
  return static_cast<la_ssize_t>(size);
}

la_int64_t TarReader::skipWindow(struct archive*, void* self, la_int64_t request) {
  auto* reader = static_cast<TarReader*>(self);
  auto skip = static_cast<std::size_t>(std::min<la_int64_t>(
      request, static_cast<la_int64_t>(reader->mappedBytes_ - reader->windowEnd_)));
  reader->windowEnd_ += skip;
  return static_cast<la_int64_t>(skip);
}

std::unique_ptr<TarReader> TarReader::openFile(const std::string& path, std::string label) {
  std::unique_ptr<TarReader> reader(new TarReader(std::move(label)));
  // Mapped rather than read: libarchive then hands out pointers into the file's pages and
  // an uncompressed layer's bytes are copied once, into the image, instead of twice.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail(ErrorCode::NotFound,
         reader->label_ + ": cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* mapped =
        ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped != MAP_FAILED) {
      ::madvise(mapped, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
      reader->mapped_ = mapped;
      reader->mappedBytes_ = static_cast<std::size_t>(st.st_size);
    }
  }
  ::close(fd);
  int rc = ARCHIVE_OK;
  if (reader->mapped_) {
    archive_read_set_read_callback(reader->archive_, readWindow);
    archive_read_set_skip_callback(reader->archive_, skipWindow);
    archive_read_set_callback_data(reader->archive_, reader.get());
    rc = archive_read_open1(reader->archive_);
  } else {
    rc = archive_read_open_filename(reader->archive_, path.c_str(), kReadBlockBytes);
  }
  if (rc != ARCHIVE_OK) reader->failStream("cannot read " + path);
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
