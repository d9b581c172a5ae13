#include "ext4_reader.h"

extern "C" {  // com_err.h has no C++ guards
#include <et/com_err.h>
}
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "banger/process.h"

namespace banger::test {
namespace {

void check(errcode_t rc, const std::string& what) {
  if (rc) throw std::runtime_error("ext4 reader: " + what + ": " + error_message(rc));
}

struct DirEntry {
  std::string name;
  std::uint32_t ino;
};

std::vector<DirEntry> readDir(ext2_filsys fs, ext2_ino_t dir) {
  std::vector<DirEntry> entries;
  auto callback = [](ext2_dir_entry* dirent, int, int, char*, void* priv) -> int {
    std::string name(dirent->name, ext2fs_dirent_name_len(dirent));
    if (name != "." && name != "..")
      static_cast<std::vector<DirEntry>*>(priv)->push_back({name, dirent->inode});
    return 0;
  };
  check(ext2fs_dir_iterate(fs, dir, 0, nullptr, callback, &entries), "read directory");
  return entries;
}

ext2_inode_large readInode(ext2_filsys fs, ext2_ino_t ino) {
  ext2_inode_large inode{};
  check(ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
        "read inode");
  return inode;
}

}  // namespace

Ext4Reader::Ext4Reader(const std::string& image) {
  initialize_ext2_error_table();
  check(ext2fs_open(image.c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs_), "open " + image);
}

Ext4Reader::~Ext4Reader() { ext2fs_close_free(&fs_); }

std::uint32_t Ext4Reader::resolve(const std::string& path) const {
  ext2_ino_t at = EXT2_ROOT_INO;
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty()) continue;
    ext2_ino_t next = 0;
    if (!LINUX_S_ISDIR(readInode(fs_, at).i_mode)) return 0;
    if (ext2fs_lookup(fs_, at, part.c_str(), static_cast<int>(part.size()), nullptr, &next))
      return 0;
    at = next;
  }
  return at;
}

std::optional<Ext4Stat> Ext4Reader::stat(const std::string& path) const {
  ext2_ino_t ino = resolve(path);
  if (!ino) return std::nullopt;
  ext2_inode_large inode = readInode(fs_, ino);
  Ext4Stat st;
  st.ino = ino;
  st.mode = inode.i_mode;
  st.uid = inode_uid(inode);
  st.gid = inode_gid(inode);
  st.size = EXT2_I_SIZE(&inode);
  st.links = inode.i_links_count;
  st.mtime = inode.i_mtime;
  if (LINUX_S_ISCHR(inode.i_mode) || LINUX_S_ISBLK(inode.i_mode)) {
    if (inode.i_block[0]) {
      st.rdevMajor = (inode.i_block[0] >> 8) & 0xff;
      st.rdevMinor = inode.i_block[0] & 0xff;
    } else {
      std::uint32_t dev = inode.i_block[1];
      st.rdevMajor = (dev & 0xfff00) >> 8;
      st.rdevMinor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    }
  }
  st.allocatedBlocks =
      ext2fs_get_stat_i_blocks(fs_, reinterpret_cast<ext2_inode*>(&inode)) / (fs_->blocksize / 512);
  return st;
}

std::string Ext4Reader::read(const std::string& path) const {
  ext2_ino_t ino = resolve(path);
  if (!ino) throw std::runtime_error("ext4 reader: no " + path);
  ext2_file_t file = nullptr;
  check(ext2fs_file_open(fs_, ino, 0, &file), "open " + path);
  std::string content;
  char buffer[65536];
  unsigned got = 0;
  do {
    check(ext2fs_file_read(file, buffer, sizeof(buffer), &got), "read " + path);
    content.append(buffer, got);
  } while (got > 0);
  ext2fs_file_close(file);
  return content;
}

std::string Ext4Reader::readlink(const std::string& path) const {
  ext2_ino_t ino = resolve(path);
  if (!ino) throw std::runtime_error("ext4 reader: no " + path);
  ext2_inode_large inode = readInode(fs_, ino);
  if (!LINUX_S_ISLNK(inode.i_mode)) throw std::runtime_error("ext4 reader: not a symlink: " + path);
  if (ext2fs_is_fast_symlink(reinterpret_cast<ext2_inode*>(&inode)))
    return std::string(reinterpret_cast<const char*>(inode.i_block), EXT2_I_SIZE(&inode));
  return read(path);
}

std::map<std::string, std::string> Ext4Reader::xattrs(const std::string& path) const {
  ext2_ino_t ino = resolve(path);
  if (!ino) throw std::runtime_error("ext4 reader: no " + path);
  ext2_xattr_handle* handle = nullptr;
  check(ext2fs_xattrs_open(fs_, ino, &handle), "xattrs open");
  check(ext2fs_xattrs_read(handle), "xattrs read");
  // iterate() hands out the on-disk form (ACLs compacted); get() converts back.
  std::vector<std::string> keys;
  auto collect = [](char* name, char*, size_t, void* priv) -> int {
    static_cast<std::vector<std::string>*>(priv)->push_back(name);
    return 0;
  };
  check(ext2fs_xattrs_iterate(handle, collect, &keys), "xattrs iterate");
  std::map<std::string, std::string> result;
  for (const auto& key : keys) {
    void* value = nullptr;
    size_t size = 0;
    check(ext2fs_xattr_get(handle, key.c_str(), &value, &size), "xattr get " + key);
    result[key] = std::string(static_cast<char*>(value), size);
    ext2fs_free_mem(&value);
  }
  ext2fs_xattrs_close(&handle);
  return result;
}

std::vector<std::string> Ext4Reader::names(const std::string& dir) const {
  std::vector<std::string> names;
  for (const auto& entry : readDir(fs_, resolve(dir))) names.push_back(entry.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> Ext4Reader::listing() const {
  std::vector<std::string> lines;
  std::function<void(ext2_ino_t, const std::string&)> walk = [&](ext2_ino_t dir,
                                                                 const std::string& prefix) {
    for (const auto& entry : readDir(fs_, dir)) {
      std::string path = prefix + "/" + entry.name;
      if (path == "/lost+found") continue;
      ext2_inode_large inode = readInode(fs_, entry.ino);
      std::string target = LINUX_S_ISLNK(inode.i_mode) ? readlink(path) : std::string();
      std::string text = listingLine(path, inode.i_mode, inode_uid(inode), inode_gid(inode),
                                     EXT2_I_SIZE(&inode), inode.i_links_count, target);
      lines.push_back(text);
      if (LINUX_S_ISDIR(inode.i_mode)) walk(entry.ino, path);
    }
  };
  walk(EXT2_ROOT_INO, "");
  std::sort(lines.begin(), lines.end());
  return lines;
}

bool Ext4Reader::isHole(const std::string& path, std::uint64_t block) const {
  ext2_ino_t ino = resolve(path);
  blk64_t physical = 0;
  check(ext2fs_bmap2(fs_, ino, nullptr, nullptr, 0, block, nullptr, &physical), "bmap");
  return physical == 0;
}

std::string listingLine(const std::string& path, std::uint32_t mode, std::uint64_t uid,
                        std::uint64_t gid, std::uint64_t size, std::uint32_t links,
                        const std::string& symlinkTarget) {
  char line[160];
  snprintf(line, sizeof line, " %o %llu:%llu", mode, static_cast<unsigned long long>(uid),
           static_cast<unsigned long long>(gid));
  std::string text = path + line;
  if (LINUX_S_ISREG(mode)) text += " " + std::to_string(size) + " links " + std::to_string(links);
  if (LINUX_S_ISLNK(mode)) text += " -> " + symlinkTarget;
  return text;
}

std::string fsckProblems(const std::string& image) {
  SystemProcessRunner runner;
  ProcessResult result = runner.run(Command({"e2fsck", "-fn", image}));
  if (result.exitCode == 0) return {};
  return "e2fsck exit " + std::to_string(result.exitCode) + ":\n" + result.out + result.err;
}

}  // namespace banger::test
