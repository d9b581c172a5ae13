#include "banger/ext4/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "banger/errors.h"

namespace banger::ext4 {
namespace {

constexpr std::size_t kReadBlockBytes = 1 << 20;
constexpr std::size_t kQueuedBlocks = 4;  // how far inflating may run ahead of the parser

bool compressed(const unsigned char* bytes, std::size_t size) {
  auto starts = [&](std::initializer_list<unsigned char> magic) {
    return size >= magic.size() && std::equal(magic.begin(), magic.end(), bytes);
  };
  return starts({0x1f, 0x8b}) || starts({0x28, 0xb5, 0x2f, 0xfd}) ||
         starts({0xfd, '7', 'z', 'X', 'Z', 0x00}) || starts({'B', 'Z', 'h'});
}

}  // namespace

// libarchive reads a mapped file window by window; windows it is done with are dropped
// from this process's memory (the page cache keeps them), so RSS stays at a few windows
// whatever the layer's size.
struct TarReader::Mapped {
  void* data = nullptr;
  std::size_t size = 0;
  std::size_t windowStart = 0;
  std::atomic<std::size_t> windowEnd{0};  // read for progress from another thread
  std::size_t dropped = 0;

  ~Mapped() {
    if (data) ::munmap(data, size);
  }

  static la_ssize_t read(struct archive*, void* self, const void** buffer) {
    auto* m = static_cast<Mapped*>(self);
    if (m->windowStart < m->windowEnd) {
      std::size_t done = m->windowStart & ~(kReadBlockBytes - 1);  // page aligned
      if (done > m->dropped) {
        ::madvise(static_cast<char*>(m->data) + m->dropped, done - m->dropped, MADV_DONTNEED);
        m->dropped = done;
      }
    }
    m->windowStart = m->windowEnd;
    std::size_t length = std::min(kReadBlockBytes, m->size - m->windowStart);
    m->windowEnd = m->windowStart + length;
    *buffer = static_cast<char*>(m->data) + m->windowStart;
    return static_cast<la_ssize_t>(length);
  }

  static la_int64_t skip(struct archive*, void* self, la_int64_t request) {
    auto* m = static_cast<Mapped*>(self);
    auto length = static_cast<std::size_t>(
        std::min<la_int64_t>(request, static_cast<la_int64_t>(m->size - m->windowEnd)));
    m->windowEnd += length;
    return static_cast<la_int64_t>(length);
  }

  void attach(archive* a) {
    archive_read_set_read_callback(a, read);
    archive_read_set_skip_callback(a, skip);
    archive_read_set_callback_data(a, this);
  }
};

// A raw libarchive reader (filters only, no format) inflating the mapped file into a
// bounded queue of blocks on its own thread; the tar reader takes blocks from the queue.
class TarReader::Decompressor {
 public:
  explicit Decompressor(Mapped& source) : raw_(archive_read_new()) {
    if (!raw_) fail(ErrorCode::Failed, "libarchive: out of memory");
    archive_read_support_filter_all(raw_);
    archive_read_support_format_raw(raw_);
    source.attach(raw_);
    thread_ = std::thread([this] { run(); });
  }
  ~Decompressor() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
    archive_read_free(raw_);
  }

  static la_ssize_t read(struct archive* a, void* self, const void** buffer) {
    auto* d = static_cast<Decompressor*>(self);
    std::unique_lock lock(d->mutex_);
    d->changed_.wait(lock, [d] { return !d->queue_.empty() || d->done_; });
    if (d->queue_.empty()) {
      if (d->error_.empty()) return 0;
      archive_set_error(a, EIO, "%s", d->error_.c_str());
      return -1;
    }
    d->current_ = std::move(d->queue_.front());  // stays valid until the next read
    d->queue_.pop_front();
    lock.unlock();
    d->changed_.notify_all();
    *buffer = d->current_.data();
    return static_cast<la_ssize_t>(d->current_.size());
  }

 private:
  void run() {
    std::string error;
    archive_entry* entry = nullptr;
    if (archive_read_open1(raw_) != ARCHIVE_OK ||
        archive_read_next_header(raw_, &entry) != ARCHIVE_OK) {
      error = archive_error_string(raw_) ? archive_error_string(raw_) : "unreadable stream";
    } else {
      for (;;) {
        std::vector<char> block(kReadBlockBytes);
        la_ssize_t got = archive_read_data(raw_, block.data(), block.size());
        if (got < 0) {
          error = archive_error_string(raw_) ? archive_error_string(raw_) : "corrupt stream";
          break;
        }
        if (got == 0) break;
        block.resize(static_cast<std::size_t>(got));
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return queue_.size() < kQueuedBlocks || stop_; });
        if (stop_) return;
        queue_.push_back(std::move(block));
        lock.unlock();
        changed_.notify_all();
      }
    }
    std::lock_guard lock(mutex_);
    error_ = error;
    done_ = true;
    changed_.notify_all();
  }

  archive* raw_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<char>> queue_;
  std::vector<char> current_;
  bool done_ = false;
  bool stop_ = false;
  std::string error_;
};

TarReader::TarReader(std::string label) : archive_(archive_read_new()), label_(std::move(label)) {
  if (!archive_) fail(ErrorCode::Failed, "libarchive: out of memory");
  archive_read_support_filter_all(archive_);
  archive_read_support_format_tar(archive_);
}

TarReader::~TarReader() {
  // The parser goes first: the decompressor's blocks and the mapping outlive its use.
  if (archive_) archive_read_free(archive_);
  decompressor_.reset();
}

void TarReader::failStream(const std::string& what) const {
  const char* detail = archive_error_string(archive_);
  fail(ErrorCode::IntegrityError,
       label_ + ": " + what + (detail ? std::string(": ") + detail : std::string()));
}

std::size_t TarReader::consumedBytes() const { return mapped_ ? mapped_->windowEnd.load() : 0; }

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
    void* data =
        ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (data != MAP_FAILED) {
      ::madvise(data, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
      reader->mapped_ = std::make_unique<Mapped>();
      reader->mapped_->data = data;
      reader->mapped_->size = static_cast<std::size_t>(st.st_size);
    }
  }
  ::close(fd);
  int rc = ARCHIVE_OK;
  if (reader->mapped_ &&
      compressed(static_cast<const unsigned char*>(reader->mapped_->data), reader->mapped_->size)) {
    reader->decompressor_ = std::make_unique<Decompressor>(*reader->mapped_);
    archive_read_set_read_callback(reader->archive_, Decompressor::read);
    archive_read_set_callback_data(reader->archive_, reader->decompressor_.get());
    rc = archive_read_open1(reader->archive_);
  } else if (reader->mapped_) {
    reader->mapped_->attach(reader->archive_);
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

std::unique_ptr<TarReader> TarReader::openFd(int fd, std::string label) {
  std::unique_ptr<TarReader> reader(new TarReader(std::move(label)));
  if (archive_read_open_fd(reader->archive_, fd, kReadBlockBytes) != ARCHIVE_OK)
    reader->failStream("cannot read the stream");
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
