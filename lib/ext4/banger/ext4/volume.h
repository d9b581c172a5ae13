// One ext4 filesystem in a regular file, formatted in-process with libext2fs (so the
// layout does not depend on the host's /etc/mke2fs.conf) and filled without a mount:
// file data goes straight to the file through a coalescing buffer, metadata through
// libext2fs at the end. See ../shared/IMAGE-NOTES.md §2.3 for the measurements.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "banger/errors.h"

struct struct_ext2_filsys;
struct ext2_super_block;

namespace banger::ext4 {

struct FormatOptions {
  std::uint64_t sizeBytes = 0;
  std::uint32_t bytesPerInode = 16384;
  bool journal = false;                     // the read-only base needs none; work disks want one
  std::array<std::uint8_t, 16> uuid{};      // all zero: random
  std::array<std::uint8_t, 16> hashSeed{};  // all zero: random
  std::int64_t timestamp = 0;               // the superblock's times; 0: now
  std::size_t writeChunkBytes = 1 << 20;    // larger single writes are slow (NOTES trap 2)
  std::string label{};
};

// The content needs more blocks or inodes than the volume has: a bigger volume would do
// (so a caller that guessed the size can retry), unlike every other refusal.
class VolumeFull : public Error {
 public:
  explicit VolumeFull(const std::string& message) : Error(ErrorCode::InvalidArgument, message) {}
};

// A run of blocks of one file: `length` blocks from logical block `logical` are stored
// at physical block `physical`.
struct Extent {
  std::uint32_t logical = 0;
  std::uint64_t physical = 0;
  std::uint32_t length = 0;
};

class Volume {
 public:
  // Creates (or truncates) `path` and formats it. Throws Failed naming the path.
  Volume(const std::string& path, const FormatOptions& options);
  ~Volume();
  Volume(const Volume&) = delete;
  Volume& operator=(const Volume&) = delete;

  struct_ext2_filsys* fs() const { return fs_; }
  std::uint32_t blockSize() const { return blockSize_; }
  std::uint64_t blocksCount() const;

  // Reserves up to `want` free blocks, contiguous, at or after the allocation cursor;
  // returns the first and sets `got`. Throws VolumeFull naming the image size when the
  // filesystem is full.
  std::uint64_t allocateBlocks(std::uint64_t want, std::uint64_t& got);
  void freeBlocks(std::uint64_t first, std::uint64_t count);
  std::uint32_t allocateInode(bool directory);
  void freeInode(std::uint32_t ino, bool directory);

  // File data, by byte offset in the image. Contiguous writes are coalesced.
  void writeData(std::uint64_t offset, const void* data, std::size_t size);
  // Appends zeros up to the next block boundary so the next file's data stays contiguous.
  void padDataToBlock();
  void flushData();

  // Writes an extent-mapped inode's block map: in the inode when it fits, else a tree.
  // `inode` is a struct ext2_inode_large with every other field set; it is written.
  void writeInodeWithExtents(std::uint32_t ino, void* inode, const std::vector<Extent>& extents);
  void writeInode(std::uint32_t ino, void* inode);

  // Flushes everything, writes the superblock and group descriptors, fsyncs, closes.
  void close();
  // Flushes the file data and hands the open filesystem over to whoever goes on editing it
  // (FileEditor::formatNew), who writes it out and closes it; the volume is done after this.
  struct_ext2_filsys* release();

  [[noreturn]] void failWith(long code, const std::string& what) const;

 private:
  void format(const FormatOptions& options, struct ext2_super_block& param);
  void writeOut(std::uint64_t offset, const char* bytes, std::size_t size);

  std::string path_;
  struct_ext2_filsys* fs_ = nullptr;
  int dataFd_ = -1;
  std::uint32_t blockSize_ = 4096;
  std::uint64_t cursor_ = 0;
  std::uint32_t nextInode_ = 0;
  std::size_t chunkBytes_;
  std::vector<char> pending_;
  std::uint64_t pendingOffset_ = 0;
};

}  // namespace banger::ext4
