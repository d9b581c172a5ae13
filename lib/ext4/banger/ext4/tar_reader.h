// Reading tar streams (plain, gzip, zstd, xz: the compression is found from the magic
// bytes, not trusted from a media type) entry by entry with libarchive, without holding
// an entry's data in memory. A compressed layer file is inflated on a second thread, a
// few MiB ahead of the tar parser, so decompressing and writing the image overlap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <archive.h>

namespace banger::ext4 {

class TarReader {
 public:
  // `label` names the stream in every error (a layer digest, a file name).
  static std::unique_ptr<TarReader> openFile(const std::string& path, std::string label);
  static std::unique_ptr<TarReader> openMemory(const void* data, std::size_t size,
                                               std::string label);
  // Reads the stream on `fd` (a pipe: a program's output) as it arrives; `fd` stays the
  // caller's. Such a stream cannot be read twice.
  static std::unique_ptr<TarReader> openFd(int fd, std::string label);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // Advances to the next entry; false at the end. A truncated or corrupt stream throws
  // IntegrityError naming the label.
  bool next();
  archive_entry* entry() const { return entry_; }
  const std::string& label() const { return label_; }

  // The entry's path, UTF-8 where the archive says so, else its raw bytes (libarchive's
  // locale conversion fails under the C locale that services run in).
  std::string path() const;
  std::string hardlinkTarget() const;  // empty when the entry is not a hard link
  std::string symlinkTarget() const;

  // The next piece of the entry's data at its offset in the file (sparse files skip
  // holes); false after the last piece.
  bool readBlock(const void*& data, std::size_t& size, std::int64_t& offset);

  // How far into the (compressed) stream reading has got, for progress; 0 when the
  // stream is not a mapped file.
  std::size_t consumedBytes() const;

 private:
  struct Mapped;       // the layer file, mapped and handed to libarchive window by window
  class Decompressor;  // inflates a compressed layer on a thread of its own
  explicit TarReader(std::string label);
  [[noreturn]] void failStream(const std::string& what) const;

  archive* archive_ = nullptr;
  archive_entry* entry_ = nullptr;
  std::string label_;
  std::unique_ptr<Mapped> mapped_;
  std::unique_ptr<Decompressor> decompressor_;
};

}  // namespace banger::ext4
