// Where a walk over a file tree sends its entries: a tar (TarWriter, for the Image
// service's work seed) or an ext4 image being edited (EditorSink, for a VM's work disk).
// Paths are relative, "./" for the top and "./dir/" for directories.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace banger::ext4 {

struct TarMeta {
  std::uint32_t mode = 0644;  // permission bits (with setuid/setgid/sticky)
  std::uint64_t uid = 0;
  std::uint64_t gid = 0;
  std::int64_t mtime = 0;
};

class TreeSink {
 public:
  // A file's data handed over piece by piece through `write`.
  using Producer = std::function<void(const std::function<void(std::string_view)>& write)>;

  virtual ~TreeSink() = default;
  virtual void directory(const std::string& path, const TarMeta& meta) = 0;
  virtual void file(const std::string& path, const TarMeta& meta, std::uint64_t size,
                    const Producer& produce) = 0;
  virtual void symlink(const std::string& path, const TarMeta& meta, const std::string& target) = 0;
};

}  // namespace banger::ext4
