// Tar streams built in memory with libarchive, for tests of the ext4 writer and the
// Image service: every entry kind, PAX xattrs and ACLs, sparse files, and the hostile
// shapes (.., hard links to nowhere) a real tar tool would refuse to write.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace banger::test {

struct TarEntry {
  enum class Type { File, Dir, Symlink, Hardlink, CharDevice, BlockDevice, Fifo };
  Type type = Type::File;
  std::string path;
  std::string content{};  // File: the data; Symlink/Hardlink: the target
  unsigned mode = 0644;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::int64_t mtime = 1700000000;
  unsigned major = 0;
  unsigned minor = 0;
  std::map<std::string, std::string> xattrs{};
  std::string aclText{};         // e.g. "user::rw-,user:1000:r--,group::r--,mask::r--,other::---"
  std::int64_t sparseSize = -1;  // File: logical size with holes where content is absent
  std::vector<std::pair<std::int64_t, std::string>> sparseData{};
};

enum class Compression { None, Gzip, Zstd };

class TarBuilder {
 public:
  TarBuilder& add(TarEntry entry);
  TarBuilder& file(std::string path, std::string content, unsigned mode = 0644);
  TarBuilder& dir(std::string path, unsigned mode = 0755);
  TarBuilder& symlink(std::string path, std::string target);
  TarBuilder& hardlink(std::string path, std::string target);
  std::string bytes(Compression compression = Compression::None) const;
  void writeTo(const std::string& file, Compression compression = Compression::None) const;

 private:
  std::vector<TarEntry> entries_;
};

}  // namespace banger::test
