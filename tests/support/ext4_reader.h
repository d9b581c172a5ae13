// Reading an ext4 image back with libext2fs, the oracle of the writer's tests: what a
// path is, owns and holds, without mounting anything. Paths are resolved without
// following symlinks, as a guest's kernel would see each entry itself.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct struct_ext2_filsys;

namespace banger::test {

struct Ext4Stat {
  std::uint32_t ino = 0;
  std::uint32_t mode = 0;  // type and permission bits, as in st_mode
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;
  std::uint32_t links = 0;
  std::int64_t mtime = 0;
  std::uint32_t rdevMajor = 0;
  std::uint32_t rdevMinor = 0;
  std::uint64_t allocatedBlocks = 0;  // data blocks mapped (holes excluded)
};

class Ext4Reader {
 public:
  explicit Ext4Reader(const std::string& image);
  ~Ext4Reader();
  Ext4Reader(const Ext4Reader&) = delete;
  Ext4Reader& operator=(const Ext4Reader&) = delete;

  std::optional<Ext4Stat> stat(const std::string& path) const;
  std::string read(const std::string& path) const;
  std::string readlink(const std::string& path) const;
  std::map<std::string, std::string> xattrs(const std::string& path) const;
  // Every path under the root except lost+found, with one line of metadata each:
  // "path type mode uid:gid size [-> target | links N | dev M,m]".
  std::vector<std::string> listing() const;
  std::vector<std::string> names(const std::string& dir) const;
  // Whether logical block `block` of the file is a hole.
  bool isHole(const std::string& path, std::uint64_t block) const;

 private:
  std::uint32_t resolve(const std::string& path) const;  // 0 when absent
  struct_ext2_filsys* fs_ = nullptr;
};

// One line of Ext4Reader::listing(); a test builds the expected side with it too, so both
// sides are formatted by the same code.
std::string listingLine(const std::string& path, std::uint32_t mode, std::uint64_t uid,
                        std::uint64_t gid, std::uint64_t size, std::uint32_t links,
                        const std::string& symlinkTarget);

// e2fsck -fn on the image: empty when it is clean, else e2fsck's output.
std::string fsckProblems(const std::string& image);

}  // namespace banger::test
