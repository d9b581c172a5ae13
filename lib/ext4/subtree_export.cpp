#include "banger/ext4/subtree_export.h"

extern "C" {  // com_err.h has no C++ guards
#include <et/com_err.h>
}
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include "banger/errors.h"

namespace banger::ext4 {
namespace {

constexpr std::size_t kChunkBytes = 256 << 10;

class Filesystem {
 public:
  explicit Filesystem(const std::string& image) : image_(image) {
    initialize_ext2_error_table();
    errcode_t rc = ext2fs_open(image.c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs_);
    if (rc)
      fail(ErrorCode::InvalidArgument,
           image + " is not an ext4 filesystem libext2fs can open: " + error_message(rc));
  }
  ~Filesystem() {
    if (fs_) ext2fs_close_free(&fs_);
  }
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  ext2_filsys get() const { return fs_; }
  void check(errcode_t rc, const std::string& what) const {
    if (rc) fail(ErrorCode::Failed, "reading " + image_ + ": " + what + ": " + error_message(rc));
  }
  ext2_inode_large inode(ext2_ino_t ino) const {
    ext2_inode_large inode{};
    check(ext2fs_read_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode)),
          "inode " + std::to_string(ino));
    return inode;
  }
  const std::string& image() const { return image_; }

 private:
  std::string image_;
  ext2_filsys fs_ = nullptr;
};

struct Child {
  std::string name;
  ext2_ino_t ino;
};

std::vector<Child> children(const Filesystem& fs, ext2_ino_t dir) {
  std::vector<Child> out;
  auto collect = [](ext2_dir_entry* dirent, int, int, char*, void* priv) -> int {
    std::string name(dirent->name, ext2fs_dirent_name_len(dirent));
    if (name != "." && name != "..")
      static_cast<std::vector<Child>*>(priv)->push_back({std::move(name), dirent->inode});
    return 0;
  };
  fs.check(ext2fs_dir_iterate(fs.get(), dir, 0, nullptr, collect, &out),
           "directory inode " + std::to_string(dir));
  return out;
}

// The directory at `path` without following symlinks; 0 when absent or not a directory.
ext2_ino_t lookupDirectory(const Filesystem& fs, const std::string& path) {
  ext2_ino_t at = EXT2_ROOT_INO;
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    const std::string part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    ext2_ino_t next = 0;
    if (ext2fs_lookup(fs.get(), at, part.c_str(), static_cast<int>(part.size()), nullptr, &next))
      return 0;
    if (!LINUX_S_ISDIR(fs.inode(next).i_mode)) return 0;
    at = next;
  }
  return at;
}

class Exporter {
 public:
  Exporter(const Filesystem& fs, TreeSink& out, const ExportLimits& limits)
      : fs_(fs), out_(out), limits_(limits) {}

  void directory(ext2_ino_t ino, const std::string& path, unsigned depth) {
    if (depth > limits_.maxDepth)
      refuse(path, "is nested more than " + std::to_string(limits_.maxDepth) + " levels deep");
    if (!visited_.insert(ino).second) refuse(path, "is a directory seen twice (a cycle)");
    out_.directory(path, meta(fs_.inode(ino)));
    for (const Child& child : children(fs_, ino)) {
      if (++stats.entries > limits_.maxEntries)
        refuse(path, "holds more than " + std::to_string(limits_.maxEntries) + " entries");
      const std::string childPath = path + child.name + "/";
      const ext2_inode_large inode = fs_.inode(child.ino);
      const std::string entry = path + child.name;
      if (LINUX_S_ISDIR(inode.i_mode)) {
        directory(child.ino, childPath, depth + 1);
      } else if (LINUX_S_ISREG(inode.i_mode)) {
        file(child.ino, inode, entry);
      } else if (LINUX_S_ISLNK(inode.i_mode)) {
        out_.symlink(entry, meta(inode), linkTarget(child.ino, inode, entry));
      } else {
        ++stats.leftOut;
      }
    }
  }

  ExportStats stats;

 private:
  static TarMeta meta(const ext2_inode_large& inode) {
    return TarMeta{.mode = inode.i_mode & 07777u,
                   .uid = inode_uid(inode),
                   .gid = inode_gid(inode),
                   .mtime = static_cast<std::int64_t>(inode.i_mtime)};
  }

  [[noreturn]] void refuse(const std::string& path, const std::string& why) const {
    fail(ErrorCode::InvalidArgument, fs_.image() + ": " + path + " " + why);
  }

  void readAll(ext2_ino_t ino, const std::string& path,
               const std::function<void(std::string_view)>& write) const {
    ext2_file_t file = nullptr;
    fs_.check(ext2fs_file_open(fs_.get(), ino, 0, &file), "open " + path);
    std::vector<char> buffer(kChunkBytes);
    try {
      for (;;) {
        unsigned got = 0;
        fs_.check(ext2fs_file_read(file, buffer.data(), static_cast<unsigned>(buffer.size()), &got),
                  "read " + path);
        if (got == 0) break;
        write(std::string_view(buffer.data(), got));
      }
    } catch (...) {
      ext2fs_file_close(file);
      throw;
    }
    ext2fs_file_close(file);
  }

  void file(ext2_ino_t ino, const ext2_inode_large& inode, const std::string& path) {
    const std::uint64_t size = EXT2_I_SIZE(&inode);
    if (size > limits_.maxBytes - std::min(limits_.maxBytes, stats.bytes))
      refuse(path, "takes the files past " + std::to_string(limits_.maxBytes) + " bytes");
    stats.bytes += size;
    out_.file(path, meta(inode), size, [&](const auto& write) { readAll(ino, path, write); });
  }

  std::string linkTarget(ext2_ino_t ino, const ext2_inode_large& inode,
                         const std::string& path) const {
    const std::uint64_t size = EXT2_I_SIZE(&inode);
    if (size == 0 || size > 4095)
      refuse(path, "is a symlink of " + std::to_string(size) + " bytes");
    ext2_inode_large copy = inode;
    if (ext2fs_is_fast_symlink(reinterpret_cast<ext2_inode*>(&copy)))
      return std::string(reinterpret_cast<const char*>(inode.i_block),
                         std::min<std::uint64_t>(size, sizeof(inode.i_block)));
    std::string target;
    readAll(ino, path, [&](std::string_view bytes) { target.append(bytes); });
    return target;
  }

  const Filesystem& fs_;
  TreeSink& out_;
  const ExportLimits& limits_;
  std::set<ext2_ino_t> visited_;
};

}  // namespace

ExportStats exportSubtree(const std::string& image, const std::string& directory, TreeSink& out,
                          const ExportLimits& limits) {
  Filesystem fs(image);
  ext2_ino_t ino = lookupDirectory(fs, directory);
  if (ino == 0) return {};
  Exporter exporter(fs, out, limits);
  exporter.directory(ino, "./", 0);
  exporter.stats.found = true;
  return exporter.stats;
}

bool isExt4Image(const std::string& image, std::string& why) {
  try {
    Filesystem fs(image);
    return true;
  } catch (const Error& e) {
    why = e.what();
    return false;
  }
}

}  // namespace banger::ext4
