#include "banger/ext4/tree.h"

extern "C" {  // com_err.h has no C++ guards
#include <et/com_err.h>
}
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include <algorithm>
#include <cstring>

#include "banger/errors.h"

namespace banger::ext4 {
namespace {

constexpr std::uint32_t kDirNlinkLimit = 65000;  // beyond it, dir_nlink counts 1
constexpr std::size_t kLostFoundBlocks = 4;      // as mke2fs makes it: e2fsck reconnects there

std::uint16_t typeBits(Kind kind) {
  switch (kind) {
    case Kind::Directory:
      return LINUX_S_IFDIR;
    case Kind::Symlink:
      return LINUX_S_IFLNK;
    case Kind::CharDevice:
      return LINUX_S_IFCHR;
    case Kind::BlockDevice:
      return LINUX_S_IFBLK;
    case Kind::Fifo:
      return LINUX_S_IFIFO;
    case Kind::Socket:
      return LINUX_S_IFSOCK;
    default:
      return LINUX_S_IFREG;
  }
}

std::uint8_t direntType(Kind kind) {
  switch (kind) {
    case Kind::Directory:
      return EXT2_FT_DIR;
    case Kind::Symlink:
      return EXT2_FT_SYMLINK;
    case Kind::CharDevice:
      return EXT2_FT_CHRDEV;
    case Kind::BlockDevice:
      return EXT2_FT_BLKDEV;
    case Kind::Fifo:
      return EXT2_FT_FIFO;
    case Kind::Socket:
      return EXT2_FT_SOCK;
    default:
      return EXT2_FT_REG_FILE;
  }
}

// ext4 keeps 32 bits of seconds plus two epoch bits and the nanoseconds in *_extra.
std::uint32_t timeExtra(std::int64_t seconds, std::uint32_t nanoseconds) {
  auto epoch = static_cast<std::uint32_t>(
      ((static_cast<std::uint64_t>(seconds) -
        static_cast<std::uint64_t>(static_cast<std::int32_t>(seconds))) >>
       32) &
      EXT4_EPOCH_MASK);
  return epoch | (nanoseconds << EXT4_EPOCH_BITS);
}

// Packs directory entries into blocks, each ending in the checksum tail.
class DirBlocks {
 public:
  DirBlocks(ext2_filsys fs) : fs_(fs), blockSize_(fs->blocksize) {
    usable_ = blockSize_ -
              (ext2fs_has_feature_metadata_csum(fs->super) ? sizeof(ext2_dir_entry_tail) : 0);
  }

  void add(std::uint32_t ino, std::string_view name, std::uint8_t type) {
    std::size_t need = (8 + name.size() + 3) & ~std::size_t{3};
    if (blocks_.empty() || used_ + need > usable_) startBlock();
    char* block = blocks_.back().data();
    if (last_ != nullptr)
      ext2fs_set_rec_len(fs_, static_cast<unsigned>(used_ - lastOffset_), last_);
    auto* entry = reinterpret_cast<ext2_dir_entry*>(block + used_);
    entry->inode = ino;
    ext2fs_dirent_set_name_len(entry, static_cast<int>(name.size()));
    ext2fs_dirent_set_file_type(entry, type);
    std::memcpy(entry->name, name.data(), name.size());
    last_ = entry;
    lastOffset_ = used_;
    used_ += need;
    ext2fs_set_rec_len(fs_, static_cast<unsigned>(usable_ - lastOffset_), last_);
  }

  // An empty block: one unused entry spanning it (lost+found keeps spare blocks).
  void addEmptyBlock() {
    startBlock();
    auto* entry = reinterpret_cast<ext2_dir_entry*>(blocks_.back().data());
    ext2fs_set_rec_len(fs_, static_cast<unsigned>(usable_), entry);
    used_ = usable_;
    last_ = nullptr;
  }

  std::vector<std::vector<char>>& blocks() { return blocks_; }

 private:
  void startBlock() {
    blocks_.emplace_back(blockSize_, 0);
    if (usable_ != blockSize_)
      ext2fs_initialize_dirent_tail(
          fs_, reinterpret_cast<ext2_dir_entry_tail*>(blocks_.back().data() + usable_));
    used_ = 0;
    last_ = nullptr;
  }

  ext2_filsys fs_;
  std::size_t blockSize_;
  std::size_t usable_;
  std::size_t used_ = 0;
  std::size_t lastOffset_ = 0;
  ext2_dir_entry* last_ = nullptr;
  std::vector<std::vector<char>> blocks_;
};

}  // namespace

Tree::Tree() {
  Inode root;
  root.kind = Kind::Directory;
  root.implicit = true;
  root.rank = kNoRank;
  root.permissions = 0755;
  inodes_.push_back(std::move(root));
  dentries_.push_back(Dentry{kRoot, kRoot, "", true});
}

std::optional<std::uint32_t> Tree::child(std::uint32_t dir, std::string_view name) const {
  auto found = children_.find(Key{dir, name});
  if (found == children_.end()) return std::nullopt;
  return found->second;
}

std::uint32_t Tree::newInode(Inode inode) {
  inodes_.push_back(std::move(inode));
  return static_cast<std::uint32_t>(inodes_.size() - 1);
}

std::uint32_t Tree::link(std::uint32_t dir, std::string_view name, std::uint32_t inodeId) {
  auto id = static_cast<std::uint32_t>(dentries_.size());
  dentries_.push_back(Dentry{dir, inodeId, std::string(name), true});
  children_.emplace(Key{dir, dentries_.back().name}, id);
  inodeOf(dir).children.push_back(id);
  inodes_[inodeId].links++;
  return id;
}

void Tree::unlink(std::uint32_t dentryId, Volume& volume) {
  Dentry& gone = dentries_[dentryId];
  if (!gone.live) return;
  Inode& inode = inodes_[gone.inode];
  if (inode.kind == Kind::Directory)
    for (auto childId : inode.children) unlink(childId, volume);
  children_.erase(Key{gone.parent, gone.name});
  gone.live = false;
  if (--inode.links == 0) {
    for (const auto& extent : inode.extents) volume.freeBlocks(extent.physical, extent.length);
    inode.extents.clear();
  }
}

std::string Tree::pathOf(std::uint32_t dentryId) const {
  std::vector<std::string_view> parts;
  for (std::uint32_t id = dentryId; id != kRoot; id = dentries_[id].parent)
    parts.push_back(dentries_[id].name);
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    path += '/';
    path += *it;
  }
  return path.empty() ? "/" : path;
}

void Tree::dropWhiteouts(Volume& volume) {
  for (std::uint32_t id = 1; id < dentries_.size(); ++id)
    if (dentries_[id].live && inodes_[dentries_[id].inode].kind == Kind::Whiteout)
      unlink(id, volume);
}

void Tree::assignInodeNumbers(Volume& volume) {
  inodes_[kRoot].ino = EXT2_ROOT_INO;
  inodes_[kRoot].links = 2;  // "." and ".." both name the root
  ext2fs_inode_alloc_stats2(volume.fs(), EXT2_ROOT_INO, +1, 1);
  for (std::uint32_t id = 1; id < dentries_.size(); ++id) {
    const Dentry& entry = dentries_[id];
    if (!entry.live) continue;
    Inode& inode = inodes_[entry.inode];
    if (inode.kind == Kind::Whiteout || inode.kind == Kind::PendingLink)
      fail(ErrorCode::Failed, "internal: unresolved entry at " + pathOf(id));
    if (inode.ino == 0) inode.ino = volume.allocateInode(inode.kind == Kind::Directory);
    if (inode.kind == Kind::Directory) {
      inode.links++;                                   // its own "."
      inodes_[dentries_[entry.parent].inode].links++;  // the child's ".."
    }
  }
}

void Tree::writeDirectory(Volume& volume, Inode& dir, std::uint32_t selfDentry) {
  DirBlocks blocks(volume.fs());
  blocks.add(dir.ino, ".", EXT2_FT_DIR);
  blocks.add(inodeOf(dentries_[selfDentry].parent).ino, "..", EXT2_FT_DIR);
  for (auto childId : dir.children) {
    const Dentry& entry = dentries_[childId];
    if (!entry.live) continue;
    const Inode& child = inodes_[entry.inode];
    blocks.add(child.ino, entry.name, direntType(child.kind));
  }
  if (selfDentry != kRoot && dentries_[selfDentry].parent == kRoot &&
      dentries_[selfDentry].name == "lost+found")
    while (blocks.blocks().size() < kLostFoundBlocks) blocks.addEmptyBlock();

  dir.extents.clear();
  std::uint32_t logical = 0;
  auto remaining = static_cast<std::uint64_t>(blocks.blocks().size());
  while (remaining > 0) {
    std::uint64_t got = 0;
    std::uint64_t first = volume.allocateBlocks(remaining, got);
    dir.extents.push_back(Extent{logical, first, static_cast<std::uint32_t>(got)});
    logical += static_cast<std::uint32_t>(got);
    remaining -= got;
  }
  dir.size = static_cast<std::uint64_t>(blocks.blocks().size()) * volume.blockSize();
  std::size_t index = 0;
  for (const auto& extent : dir.extents)
    for (std::uint32_t i = 0; i < extent.length; ++i, ++index) {
      errcode_t rc = ext2fs_write_dir_block4(volume.fs(), extent.physical + i,
                                             blocks.blocks()[index].data(), 0, dir.ino);
      if (rc) volume.failWith(rc, "write directory " + pathOf(selfDentry));
    }
}

std::vector<std::string> Tree::writeMetadata(Volume& volume) {
  std::vector<std::string> warnings;
  if (!child(kRoot, "lost+found")) {
    Inode lostFound;
    lostFound.kind = Kind::Directory;
    lostFound.permissions = 0700;
    lostFound.mtime = inodes_[kRoot].mtime;
    link(kRoot, "lost+found", newInode(std::move(lostFound)));
  }
  assignInodeNumbers(volume);

  // Each live inode once, in inode-number order, with one dentry that names it.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> order;  // (inode id, a dentry)
  order.reserve(inodes_.size());
  std::vector<bool> seen(inodes_.size(), false);
  for (std::uint32_t id = 0; id < dentries_.size(); ++id)
    if (dentries_[id].live && !seen[dentries_[id].inode]) {
      seen[dentries_[id].inode] = true;
      order.emplace_back(dentries_[id].inode, id);
    }
  std::sort(order.begin(), order.end(), [this](const auto& a, const auto& b) {
    return inodes_[a.first].ino < inodes_[b.first].ino;
  });

  ext2_filsys fs = volume.fs();
  for (auto [inodeId, dentryId] : order) {
    Inode& node = inodes_[inodeId];
    if (node.kind == Kind::Directory) writeDirectory(volume, node, dentryId);
    ext2_inode_large raw{};
    raw.i_mode = static_cast<__u16>(typeBits(node.kind) | (node.permissions & 07777));
    raw.i_uid = static_cast<__u16>(node.uid);
    raw.osd2.linux2.l_i_uid_high = static_cast<__u16>(node.uid >> 16);
    raw.i_gid = static_cast<__u16>(node.gid);
    raw.osd2.linux2.l_i_gid_high = static_cast<__u16>(node.gid >> 16);
    auto seconds = static_cast<__u32>(node.mtime);
    raw.i_atime = raw.i_ctime = raw.i_mtime = raw.i_crtime = seconds;
    raw.i_atime_extra = raw.i_ctime_extra = raw.i_mtime_extra = raw.i_crtime_extra =
        timeExtra(node.mtime, node.mtimeNsec);
    raw.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
    std::uint32_t links = node.links;
    if (node.kind == Kind::Directory && links >= kDirNlinkLimit) links = 1;
    raw.i_links_count = static_cast<__u16>(links);
    auto* plain = reinterpret_cast<ext2_inode*>(&raw);
    if (errcode_t rc = ext2fs_inode_size_set(fs, plain, node.size))
      volume.failWith(rc, "size of " + pathOf(dentryId));

    switch (node.kind) {
      case Kind::CharDevice:
      case Kind::BlockDevice:
        if (node.deviceMajor < 256 && node.deviceMinor < 256) {
          raw.i_block[0] = node.deviceMajor * 256 + node.deviceMinor;
        } else {
          raw.i_block[1] = (node.deviceMinor & 0xff) | (node.deviceMajor << 8) |
                           ((node.deviceMinor & ~0xffu) << 12);
        }
        volume.writeInode(node.ino, &raw);
        break;
      case Kind::Fifo:
      case Kind::Socket:
        volume.writeInode(node.ino, &raw);
        break;
      case Kind::Symlink:
        if (node.extents.empty()) {  // fast symlink: the target lives in i_block
          std::memcpy(raw.i_block, node.symlinkTarget.data(), node.symlinkTarget.size());
          volume.writeInode(node.ino, &raw);
          break;
        }
        [[fallthrough]];
      default:
        volume.writeInodeWithExtents(node.ino, &raw, node.extents);
    }

    if (node.xattrs.empty()) continue;
    ext2_xattr_handle* handle = nullptr;
    errcode_t rc = ext2fs_xattrs_open(fs, node.ino, &handle);
    if (!rc) rc = ext2fs_xattrs_read(handle);
    for (std::size_t i = 0; !rc && i < node.xattrs.size(); ++i) {
      const Xattr& xattr = node.xattrs[i];
      errcode_t set =
          ext2fs_xattr_set(handle, xattr.name.c_str(), xattr.value.data(), xattr.value.size());
      if (set == EXT2_ET_EA_NO_SPACE || set == EXT2_ET_EA_INODE_CORRUPTED)
        warnings.push_back("xattr " + xattr.name + " of " + pathOf(dentryId) +
                           " does not fit; left out");
      else
        rc = set;
    }
    if (handle) {
      errcode_t closed = ext2fs_xattrs_close(&handle);
      if (!rc) rc = closed;
    }
    if (rc) volume.failWith(rc, "xattrs of " + pathOf(dentryId));
  }
  return warnings;
}

}  // namespace banger::ext4
