#include "banger/ext4/file_editor.h"

extern "C" {  // com_err.h has no C++ guards
#include <et/com_err.h>
}
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include <ctime>
#include <vector>

#include "banger/errors.h"
#include "banger/ext4/tree.h"

namespace banger::ext4 {
namespace {

std::vector<std::string> components(const std::string& path) {
  if (path.empty() || path[0] != '/') fail(ErrorCode::InvalidArgument, path + " is not absolute");
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "." || part == "..")
      fail(ErrorCode::InvalidArgument, path + ": '" + part + "' is not allowed");
    if (!part.empty()) out.push_back(std::move(part));
    start = end + 1;
  }
  return out;
}

ext2_inode_large readInode(ext2_filsys fs, ext2_ino_t ino) {
  ext2_inode_large inode{};
  ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode));
  return inode;
}

void setOwner(ext2_inode_large& inode, std::uint32_t uid, std::uint32_t gid) {
  inode.i_uid = static_cast<__u16>(uid);
  inode.i_gid = static_cast<__u16>(gid);
  ext2fs_set_i_uid_high(inode, uid >> 16);
  ext2fs_set_i_gid_high(inode, gid >> 16);
}

}  // namespace

FileEditor::FileEditor(const std::string& image) : image_(image) {
  initialize_ext2_error_table();
  errcode_t rc =
      ext2fs_open(image.c_str(), EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs_);
  if (rc)
    fail(ErrorCode::InvalidArgument,
         image + " is not an ext4 filesystem libext2fs can open: " + error_message(rc));
  if ((rc = ext2fs_read_bitmaps(fs_))) {
    ext2fs_free(fs_);
    fs_ = nullptr;
    fail(ErrorCode::Failed, "reading the bitmaps of " + image + ": " + error_message(rc));
  }
}

FileEditor FileEditor::formatNew(const std::string& image, const FormatOptions& options) {
  Volume volume(image, options);
  Tree tree;
  tree.inode(Tree::kRoot).mtime = options.timestamp ? options.timestamp : std::time(nullptr);
  tree.writeMetadata(volume);
  return FileEditor(image, volume.release());
}

FileEditor::~FileEditor() {
  if (fs_) ext2fs_close_free(&fs_);
}

void FileEditor::check(long code, const std::string& what) const {
  if (code)
    fail(ErrorCode::Failed, "ext4 image " + image_ + ": " + what + ": " + error_message(code));
}

void FileEditor::close() {
  if (!fs_) return;
  errcode_t rc = ext2fs_close_free(&fs_);
  fs_ = nullptr;
  check(rc, "writing it out");
}

unsigned FileEditor::lookupParent(const std::string& path, std::string& name) {
  std::vector<std::string> parts = components(path);
  if (parts.empty()) fail(ErrorCode::InvalidArgument, "cannot replace the root of " + image_);
  name = parts.back();
  parts.pop_back();
  ext2_ino_t dir = EXT2_ROOT_INO;
  std::string walked;
  for (const std::string& part : parts) {
    walked += "/" + part;
    ext2_ino_t next = 0;
    if (ext2fs_lookup(fs_, dir, part.c_str(), static_cast<int>(part.size()), nullptr, &next))
      fail(ErrorCode::InvalidArgument, walked + " does not exist in " + image_);
    if (!LINUX_S_ISDIR(readInode(fs_, next).i_mode))
      fail(ErrorCode::InvalidArgument, walked + " is not a directory in " + image_);
    dir = next;
  }
  return dir;
}

void FileEditor::removeExisting(unsigned dir, const std::string& name, const std::string& path) {
  ext2_ino_t ino = 0;
  if (ext2fs_lookup(fs_, dir, name.c_str(), static_cast<int>(name.size()), nullptr, &ino)) return;
  ext2_inode_large inode = readInode(fs_, ino);
  if (LINUX_S_ISDIR(inode.i_mode))
    fail(ErrorCode::InvalidArgument, path + " is a directory in " + image_);
  check(ext2fs_unlink(fs_, dir, name.c_str(), ino, 0), "unlink " + path);
  if (inode.i_links_count > 1) {
    --inode.i_links_count;
    check(ext2fs_write_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
          "inode of " + path);
    return;
  }
  // The last link: free its blocks and the inode, as rm would through the kernel.
  if (ext2fs_inode_has_valid_blocks2(fs_, reinterpret_cast<ext2_inode*>(&inode)))
    check(ext2fs_punch(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), nullptr, 0, ~0ULL),
          "free the blocks of " + path);
  inode = readInode(fs_, ino);
  inode.i_links_count = 0;
  inode.i_dtime = static_cast<__u32>(std::time(nullptr));
  check(ext2fs_write_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
        "inode of " + path);
  ext2fs_inode_alloc_stats2(fs_, ino, -1, 0);
}

unsigned FileEditor::newInode(unsigned dir, const std::string& name, std::uint32_t type,
                              const Ownership& owner, int direntType) {
  ext2_ino_t ino = 0;
  check(ext2fs_new_inode(fs_, dir, static_cast<int>(type | owner.mode), nullptr, &ino),
        "no free inode for " + name);
  errcode_t rc = ext2fs_link(fs_, dir, name.c_str(), ino, direntType);
  if (rc == EXT2_ET_DIR_NO_SPACE) {
    check(ext2fs_expand_dir(fs_, dir), "grow the directory of " + name);
    rc = ext2fs_link(fs_, dir, name.c_str(), ino, direntType);
  }
  check(rc, "link " + name);
  ext2fs_inode_alloc_stats2(fs_, ino, +1, 0);
  ext2_inode_large inode{};
  const auto now = static_cast<__u32>(std::time(nullptr));
  inode.i_mode = static_cast<__u16>(type | (owner.mode & 07777));
  setOwner(inode, owner.uid, owner.gid);
  inode.i_links_count = 1;
  inode.i_atime = inode.i_ctime = inode.i_mtime = now;
  inode.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
  check(ext2fs_write_new_inode(fs_, ino, reinterpret_cast<ext2_inode*>(&inode)),
        "write the inode of " + name);
  return ino;
}

unsigned FileEditor::makeDirectories(const std::string& path) {
  const std::vector<std::string> parts = components(path);
  ext2_ino_t dir = EXT2_ROOT_INO;
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    walked += "/" + part;
    ext2_ino_t next = 0;
    if (ext2fs_lookup(fs_, dir, part.c_str(), static_cast<int>(part.size()), nullptr, &next)) {
      errcode_t rc = ext2fs_mkdir(fs_, dir, 0, part.c_str());
      if (rc == EXT2_ET_DIR_NO_SPACE) {
        check(ext2fs_expand_dir(fs_, dir), "grow the directory of " + walked);
        rc = ext2fs_mkdir(fs_, dir, 0, part.c_str());
      }
      check(rc, "mkdir " + walked);
      check(ext2fs_lookup(fs_, dir, part.c_str(), static_cast<int>(part.size()), nullptr, &next),
            "find " + walked);
      ext2_inode_large inode = readInode(fs_, next);
      inode.i_mode = LINUX_S_IFDIR | 0755;
      setOwner(inode, 0, 0);
      check(
          ext2fs_write_inode_full(fs_, next, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
          "inode of " + walked);
    } else if (!LINUX_S_ISDIR(readInode(fs_, next).i_mode)) {
      fail(ErrorCode::InvalidArgument, walked + " is not a directory in " + image_);
    }
    dir = next;
  }
  return dir;
}

void FileEditor::directory(const std::string& path, const Ownership& owner) {
  const ext2_ino_t dir = makeDirectories(path);
  ext2_inode_large inode = readInode(fs_, dir);
  inode.i_mode = static_cast<__u16>(LINUX_S_IFDIR | (owner.mode & 07777));
  setOwner(inode, owner.uid, owner.gid);
  check(ext2fs_write_inode_full(fs_, dir, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
        "inode of " + path);
}

void FileEditor::file(const std::string& path, std::string_view content, const Ownership& owner) {
  file(
      path, content.size(), [&](const auto& write) { write(content); }, owner);
}

void FileEditor::file(const std::string& path, std::uint64_t size,
                      const TreeSink::Producer& produce, const Ownership& owner) {
  std::string name;
  const ext2_ino_t dir = lookupParent(path, name);
  removeExisting(dir, name, path);
  const ext2_ino_t ino = newInode(dir, name, LINUX_S_IFREG, owner, EXT2_FT_REG_FILE);
  ext2_inode_large inode = readInode(fs_, ino);
  if (ext2fs_has_feature_extents(fs_->super)) {
    // An empty extent tree in the inode, as create_inode.c starts a file.
    inode.i_flags |= EXT4_EXTENTS_FL;
    check(ext2fs_write_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
          "inode of " + path);
    ext2_extent_handle_t handle = nullptr;
    check(ext2fs_extent_open2(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), &handle),
          "extents of " + path);
    ext2fs_extent_free(handle);
  }
  ext2_file_t handle = nullptr;
  check(ext2fs_file_open(fs_, ino, EXT2_FILE_WRITE, &handle), "open " + path);
  std::uint64_t done = 0;
  errcode_t rc = 0;
  try {
    produce([&](std::string_view piece) {
      while (!piece.empty() && rc == 0) {
        unsigned wrote = 0;
        const size_t chunk = std::min<size_t>(piece.size(), 1 << 20);
        rc = ext2fs_file_write(handle, piece.data(), static_cast<unsigned>(chunk), &wrote);
        if (rc == 0 && wrote == 0) rc = EXT2_ET_BLOCK_ALLOC_FAIL;
        piece.remove_prefix(wrote);
        done += wrote;
      }
    });
  } catch (...) {
    ext2fs_file_close(handle);
    throw;
  }
  if (rc == 0 && done != size)
    fail(ErrorCode::Failed, "writing " + path + " into " + image_ + ": " + std::to_string(done) +
                                " bytes arrived of " + std::to_string(size));
  if (rc == 0) rc = ext2fs_file_set_size2(handle, done);
  const errcode_t closed = ext2fs_file_close(handle);
  check(rc ? rc : closed, "write " + path);
}

void FileEditor::symlink(const std::string& path, const std::string& target,
                         const Ownership& owner) {
  std::string name;
  const ext2_ino_t dir = lookupParent(path, name);
  removeExisting(dir, name, path);
  errcode_t rc = ext2fs_symlink(fs_, dir, 0, name.c_str(), target.c_str());
  if (rc == EXT2_ET_DIR_NO_SPACE) {
    check(ext2fs_expand_dir(fs_, dir), "grow the directory of " + path);
    rc = ext2fs_symlink(fs_, dir, 0, name.c_str(), target.c_str());
  }
  check(rc, "symlink " + path);
  ext2_ino_t ino = 0;
  check(ext2fs_lookup(fs_, dir, name.c_str(), static_cast<int>(name.size()), nullptr, &ino),
        "find " + path);
  ext2_inode_large inode = readInode(fs_, ino);
  setOwner(inode, owner.uid, owner.gid);
  check(ext2fs_write_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
        "inode of " + path);
}

namespace {

Ownership ownerOf(const TarMeta& meta) {
  return {meta.mode, static_cast<std::uint32_t>(meta.uid), static_cast<std::uint32_t>(meta.gid)};
}

}  // namespace

std::string EditorSink::place(const std::string& path) const {
  std::string_view relative(path);
  if (relative.rfind("./", 0) == 0) relative.remove_prefix(2);
  while (!relative.empty() && relative.back() == '/') relative.remove_suffix(1);
  std::string out = under_;
  if (out.empty() || out.back() != '/') out += '/';
  return out.append(relative);
}

void EditorSink::directory(const std::string& path, const TarMeta& meta) {
  editor_.directory(place(path), ownerOf(meta));
}

void EditorSink::file(const std::string& path, const TarMeta& meta, std::uint64_t size,
                      const Producer& produce) {
  editor_.file(place(path), size, produce, ownerOf(meta));
}

void EditorSink::symlink(const std::string& path, const TarMeta& meta, const std::string& target) {
  editor_.symlink(place(path), target, ownerOf(meta));
}

}  // namespace banger::ext4
