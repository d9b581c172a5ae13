#include "banger/ext4/volume.h"

extern "C" {  // com_err.h has no C++ guards
#include <et/com_err.h>
}
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "banger/errors.h"

namespace banger::ext4 {
namespace {

constexpr std::uint32_t kBlockSize = 4096;
constexpr std::uint32_t kInodeSize = 256;
constexpr std::uint64_t kMinBytes = 8ull << 20;
constexpr std::uint32_t kMaxExtentBlocks = 32768;  // an initialized extent's limit

void randomIfZero(std::array<std::uint8_t, 16>& bytes) {
  if (std::any_of(bytes.begin(), bytes.end(), [](auto b) { return b != 0; })) return;
  if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    fail(ErrorCode::Failed, std::string("getrandom: ") + std::strerror(errno));
}

ext2_super_block superblockParameters(const FormatOptions& options) {
  ext2_super_block param{};
  std::uint64_t blocks = std::max(options.sizeBytes, kMinBytes) / kBlockSize;
  ext2fs_blocks_count_set(&param, blocks);
  param.s_log_block_size = 2;  // 1024 << 2
  param.s_rev_level = EXT2_DYNAMIC_REV;
  param.s_inode_size = kInodeSize;
  std::uint64_t inodes = std::max<std::uint64_t>(
      blocks * kBlockSize / std::max<std::uint32_t>(options.bytesPerInode, kBlockSize), 1024);
  param.s_inodes_count =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(inodes, 0xffffffffu / 2));
  param.s_log_groups_per_flex = 4;
  param.s_want_extra_isize = param.s_min_extra_isize = 32;
  param.s_feature_compat = EXT2_FEATURE_COMPAT_EXT_ATTR | EXT2_FEATURE_COMPAT_DIR_INDEX |
                           (options.journal ? EXT3_FEATURE_COMPAT_HAS_JOURNAL : 0);
  param.s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_EXTENTS |
                             EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG;
  param.s_feature_ro_compat =
      EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
      EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_DIR_NLINK |
      EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
  return param;
}

}  // namespace

void Volume::failWith(long code, const std::string& what) const {
  fail(ErrorCode::Failed, "ext4 image " + path_ + ": " + what + ": " + error_message(code));
}

Volume::Volume(const std::string& path, const FormatOptions& options)
    : path_(path),
      chunkBytes_(std::clamp<std::size_t>(options.writeChunkBytes, kBlockSize, 64u << 20)) {
  initialize_ext2_error_table();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(ErrorCode::Failed, "cannot create " + path + ": " + std::strerror(errno));
  ext2_super_block param = superblockParameters(options);
  if (::ftruncate(fd, static_cast<off_t>(ext2fs_blocks_count(&param) * kBlockSize)) != 0) {
    int err = errno;
    ::close(fd);
    fail(ErrorCode::Failed, "cannot size " + path + ": " + std::strerror(err));
  }
  dataFd_ = fd;
  try {
    format(options, param);
  } catch (...) {
    // The destructor does not run for a constructor that throws.
    if (fs_) ext2fs_free(fs_);
    ::close(dataFd_);
    throw;
  }
}

void Volume::format(const FormatOptions& options, ext2_super_block& param) {
  errcode_t rc = ext2fs_initialize(path_.c_str(), EXT2_FLAG_64BITS, &param, unix_io_manager, &fs_);
  if (rc) failWith(rc, "format");
  blockSize_ = fs_->blocksize;
  std::time_t now = options.timestamp ? options.timestamp : std::time(nullptr);
  fs_->now = now;
  ext2_super_block* sb = fs_->super;
  sb->s_mkfs_time = sb->s_lastcheck = sb->s_wtime = static_cast<__u32>(now);
  sb->s_max_mnt_count = static_cast<__s16>(-1);
  sb->s_kbytes_written = 1;
  std::array<std::uint8_t, 16> uuid = options.uuid, seed = options.hashSeed;
  randomIfZero(uuid);
  randomIfZero(seed);
  std::memcpy(sb->s_uuid, uuid.data(), uuid.size());
  std::memcpy(sb->s_hash_seed, seed.data(), seed.size());
  std::strncpy(reinterpret_cast<char*>(sb->s_volume_name), options.label.c_str(),
               sizeof(sb->s_volume_name) - 1);
  sb->s_def_hash_version = EXT2_HASH_HALF_MD4;
  sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
  ext2fs_init_csum_seed(fs_);

  if ((rc = ext2fs_allocate_tables(fs_))) failWith(rc, "allocate group tables");
  if ((rc = ext2fs_convert_subcluster_bitmap(fs_, &fs_->block_map))) failWith(rc, "block bitmap");
  // The file was just truncated, so every inode table already reads as zeros.
  for (dgrp_t group = 0; group < fs_->group_desc_count; ++group) {
    ext2fs_bg_flags_set(fs_, group, EXT2_BG_INODE_ZEROED);
    ext2fs_group_desc_csum_set(fs_, group);
  }
  // Reserved inodes 1..10 must carry valid checksums; the bad-block inode is one of them.
  std::vector<char> zero(kInodeSize, 0);
  for (ext2_ino_t ino = 1; ino < EXT2_FIRST_INO(sb); ++ino) {
    if ((rc = ext2fs_write_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(zero.data()),
                                      kInodeSize)))
      failWith(rc, "write reserved inodes");
    if (ino != EXT2_ROOT_INO) ext2fs_inode_alloc_stats2(fs_, ino, +1, 0);
  }
  if ((rc = ext2fs_update_bb_inode(fs_, nullptr))) failWith(rc, "bad-block inode");
  if (options.journal) {
    ext2fs_journal_params params{};
    if ((rc = ext2fs_get_journal_params(&params, fs_))) failWith(rc, "journal size");
    if ((rc = ext2fs_add_journal_inode3(fs_, &params, ~0ULL,
                                        EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK)))
      failWith(rc, "create journal");
  }
  nextInode_ = EXT2_FIRST_INO(sb);
  cursor_ = sb->s_first_data_block;
  pending_.reserve(chunkBytes_);
}

Volume::~Volume() {
  if (fs_) ext2fs_free(fs_);
  if (dataFd_ >= 0) ::close(dataFd_);
}

std::uint64_t Volume::blocksCount() const { return ext2fs_blocks_count(fs_->super); }

std::uint64_t Volume::allocateBlocks(std::uint64_t want, std::uint64_t& got) {
  blk64_t first = 0, length = 0;
  want = std::min<std::uint64_t>(want, kMaxExtentBlocks);
  errcode_t rc = ext2fs_new_range(fs_, 0, cursor_, want, nullptr, &first, &length);
  if (rc == EXT2_ET_BLOCK_ALLOC_FAIL && cursor_ > fs_->super->s_first_data_block) {
    cursor_ = fs_->super->s_first_data_block;  // wrap once: blocks freed behind the cursor
    rc = ext2fs_new_range(fs_, 0, cursor_, want, nullptr, &first, &length);
  }
  if (rc == EXT2_ET_BLOCK_ALLOC_FAIL)
    throw VolumeFull("the content does not fit in an ext4 image of " +
                     std::to_string(blocksCount() * blockSize_ >> 20) + " MiB");
  if (rc) failWith(rc, "allocate blocks");
  ext2fs_block_alloc_stats_range(fs_, first, static_cast<blk_t>(length), +1);
  cursor_ = first + length;
  got = length;
  return first;
}

void Volume::freeBlocks(std::uint64_t first, std::uint64_t count) {
  if (count) ext2fs_block_alloc_stats_range(fs_, first, static_cast<blk_t>(count), -1);
}

std::uint32_t Volume::allocateInode(bool directory) {
  if (nextInode_ > fs_->super->s_inodes_count)
    throw VolumeFull("the content needs more than the " +
                     std::to_string(fs_->super->s_inodes_count) + " inodes of this ext4 image");
  std::uint32_t ino = nextInode_++;
  ext2fs_inode_alloc_stats2(fs_, ino, +1, directory ? 1 : 0);
  return ino;
}

void Volume::freeInode(std::uint32_t ino, bool directory) {
  ext2fs_inode_alloc_stats2(fs_, ino, -1, directory ? 1 : 0);
}

void Volume::writeData(std::uint64_t offset, const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  if (!pending_.empty() && offset != pendingOffset_ + pending_.size()) flushData();
  if (pending_.empty() && size >= chunkBytes_ / 2) {
    // Large pieces go straight out: copying them into the buffer first costs a memcpy.
    std::size_t whole = size - size % blockSize_;
    writeOut(offset, bytes, whole);
    bytes += whole;
    offset += whole;
    size -= whole;
  }
  while (size > 0) {
    if (pending_.empty()) pendingOffset_ = offset;
    std::size_t take = std::min(size, chunkBytes_ - pending_.size());
    pending_.insert(pending_.end(), bytes, bytes + take);
    bytes += take;
    offset += take;
    size -= take;
    if (pending_.size() == chunkBytes_) flushData();
  }
}

void Volume::padDataToBlock() {
  std::size_t tail = (pendingOffset_ + pending_.size()) % blockSize_;
  if (!pending_.empty() && tail) pending_.resize(pending_.size() + blockSize_ - tail, 0);
  if (pending_.size() >= chunkBytes_) flushData();
}

void Volume::flushData() {
  writeOut(pendingOffset_, pending_.data(), pending_.size());
  pendingOffset_ += pending_.size();
  pending_.clear();
}

void Volume::writeOut(std::uint64_t offset, const char* bytes, std::size_t size) {
  for (std::size_t done = 0; done < size;) {
    // Single writes stay at chunkBytes_: larger ones are slow here (IMAGE-NOTES trap 2).
    std::size_t piece = std::min(size - done, chunkBytes_);
    ssize_t n = ::pwrite(dataFd_, bytes + done, piece, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      fail(ErrorCode::Failed, "write to " + path_ + ": " + std::strerror(n < 0 ? errno : EIO));
    done += static_cast<std::size_t>(n);
  }
  // Start writeback now so close() does not wait for the whole image at once.
  if (size > 0)
    ::sync_file_range(dataFd_, static_cast<off_t>(offset), static_cast<off_t>(size),
                      SYNC_FILE_RANGE_WRITE);
}

void Volume::writeInode(std::uint32_t ino, void* inode) {
  errcode_t rc =
      ext2fs_write_inode_full(fs_, ino, static_cast<ext2_inode*>(inode), sizeof(ext2_inode_large));
  if (rc) failWith(rc, "write inode " + std::to_string(ino));
}

void Volume::writeInodeWithExtents(std::uint32_t ino, void* inodePtr,
                                   const std::vector<Extent>& extents) {
  auto* inode = static_cast<ext2_inode_large*>(inodePtr);
  inode->i_flags |= EXT4_EXTENTS_FL;
  std::memset(inode->i_block, 0, sizeof(inode->i_block));
  auto* header = reinterpret_cast<ext3_extent_header*>(inode->i_block);
  header->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
  header->eh_max = ext2fs_cpu_to_le16((sizeof(inode->i_block) - sizeof(ext3_extent_header)) /
                                      sizeof(ext3_extent));
  std::uint64_t blocks = 0;
  for (const auto& e : extents) blocks += e.length;
  ext2fs_iblk_set(fs_, reinterpret_cast<ext2_inode*>(inode), blocks);
  if (extents.size() <= 4) {
    header->eh_entries = ext2fs_cpu_to_le16(static_cast<__u16>(extents.size()));
    auto* slot = reinterpret_cast<ext3_extent*>(header + 1);
    for (const auto& e : extents) {
      slot->ee_block = ext2fs_cpu_to_le32(e.logical);
      slot->ee_len = ext2fs_cpu_to_le16(static_cast<__u16>(e.length));
      slot->ee_start_hi = ext2fs_cpu_to_le16(static_cast<__u16>(e.physical >> 32));
      slot->ee_start = ext2fs_cpu_to_le32(static_cast<__u32>(e.physical));
      ++slot;
    }
    writeInode(ino, inode);
    return;
  }
  // More than fit in the inode: let libext2fs grow a tree (it splits nodes as needed).
  writeInode(ino, inode);
  ext2_extent_handle_t handle = nullptr;
  errcode_t rc = ext2fs_extent_open2(fs_, ino, reinterpret_cast<ext2_inode*>(inode), &handle);
  if (rc) failWith(rc, "open extent tree of inode " + std::to_string(ino));
  for (std::size_t i = 0; i < extents.size() && !rc; ++i) {
    ext2fs_extent next{};
    next.e_lblk = extents[i].logical;
    next.e_pblk = extents[i].physical;
    next.e_len = extents[i].length;
    next.e_flags = 0;
    if (i > 0) {
      ext2fs_extent last{};
      rc = ext2fs_extent_get(handle, EXT2_EXTENT_LAST_LEAF, &last);
      if (!rc) rc = ext2fs_extent_insert(handle, EXT2_EXTENT_INSERT_AFTER, &next);
    } else {
      rc = ext2fs_extent_insert(handle, 0, &next);
    }
    if (!rc) rc = ext2fs_extent_fix_parents(handle);
  }
  ext2fs_extent_free(handle);
  if (rc) failWith(rc, "write extent tree of inode " + std::to_string(ino));
  // The tree's own blocks were allocated by libext2fs; read back i_blocks it updated.
}

void Volume::close() {
  flushData();
  errcode_t rc = ext2fs_close_free(&fs_);
  if (rc) failWith(rc, "close");
  if (::fsync(dataFd_) != 0)
    fail(ErrorCode::Failed, "fsync " + path_ + ": " + std::strerror(errno));
  ::close(dataFd_);
  dataFd_ = -1;
}

struct_ext2_filsys* Volume::release() {
  flushData();
  ::close(dataFd_);
  dataFd_ = -1;
  return std::exchange(fs_, nullptr);
}

}  // namespace banger::ext4
