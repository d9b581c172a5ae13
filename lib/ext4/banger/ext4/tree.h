// The filesystem tree kept in memory while an image is written: names, inodes and where
// each file's data went. Directory blocks, inodes and xattrs are written once, at the
// end (writeMetadata), which is what makes the writer one pass: nothing is looked up on
// disk per entry, unlike mkfs -d (IMAGE-NOTES §2.1).
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "banger/ext4/volume.h"

namespace banger::ext4 {

enum class Kind : std::uint8_t {
  Directory,
  Regular,
  Symlink,
  CharDevice,
  BlockDevice,
  Fifo,
  Socket,
  Whiteout,     // a marker hiding a path from older layers; never written
  PendingLink,  // a hard link resolved against the final tree at the end
};

struct Xattr {
  std::string name;
  std::string value;
};

// Which layer decided an entry: 0 is the newest; larger numbers are older layers.
using LayerRank = std::uint32_t;
inline constexpr LayerRank kNoRank = std::numeric_limits<LayerRank>::max();

struct Inode {
  Kind kind = Kind::Regular;
  bool implicit = false;  // a directory made only because a child needed it
  LayerRank rank = 0;
  LayerRank opaqueRank = kNoRank;  // children from layers older than this are hidden
  std::uint32_t permissions = 0;   // 07777: rwx plus setuid, setgid, sticky
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime = 0;
  std::uint32_t mtimeNsec = 0;
  std::uint64_t size = 0;
  std::uint32_t deviceMajor = 0;
  std::uint32_t deviceMinor = 0;
  std::uint32_t links = 0;
  std::uint32_t ino = 0;
  std::string symlinkTarget;
  std::vector<Extent> extents;
  std::vector<Xattr> xattrs;
  std::vector<std::uint32_t> children;  // dentry ids, directories only
};

struct Dentry {
  std::uint32_t parent = 0;
  std::uint32_t inode = 0;
  std::string name;
  bool live = true;
};

class Tree {
 public:
  static constexpr std::uint32_t kRoot = 0;  // dentry and inode id of "/"

  Tree();

  Inode& inode(std::uint32_t id) { return inodes_[id]; }
  Dentry& dentry(std::uint32_t id) { return dentries_[id]; }
  Inode& inodeOf(std::uint32_t dentryId) { return inodes_[dentries_[dentryId].inode]; }
  const Inode& inodeOf(std::uint32_t dentryId) const { return inodes_[dentries_[dentryId].inode]; }
  std::size_t inodeCount() const { return inodes_.size(); }

  std::optional<std::uint32_t> child(std::uint32_t dir, std::string_view name) const;
  std::uint32_t newInode(Inode inode);
  // Links `inodeId` into directory `dir` under `name` (which must be free).
  std::uint32_t link(std::uint32_t dir, std::string_view name, std::uint32_t inodeId);
  // Unlinks a dentry (and everything under it); inodes left with no link give their
  // blocks back to `volume`.
  void unlink(std::uint32_t dentryId, Volume& volume);
  // The path of a dentry, for messages.
  std::string pathOf(std::uint32_t dentryId) const;

  // Removes the whiteout markers: they only hid paths from older layers.
  void dropWhiteouts(Volume& volume);

  // Numbers the inodes, lays out directory blocks and writes every inode, directory
  // block and xattr into `volume`. Returns warnings (e.g. an xattr that did not fit).
  std::vector<std::string> writeMetadata(Volume& volume);

 private:
  struct Key {
    std::uint32_t parent;
    std::string_view name;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const noexcept {
      return std::hash<std::string_view>{}(key.name) * 31 + key.parent;
    }
  };

  void assignInodeNumbers(Volume& volume);
  void writeDirectory(Volume& volume, Inode& dir, std::uint32_t selfDentry);

  std::deque<Inode> inodes_;
  std::deque<Dentry> dentries_;  // a deque: names stay put, so keys can view them
  std::unordered_map<Key, std::uint32_t, KeyHash> children_;
};

}  // namespace banger::ext4
