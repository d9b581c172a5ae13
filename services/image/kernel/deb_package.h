// The files of a Debian package (.deb), read in one pass with libarchive: the outer `ar`
// archive, then its data.tar.{xz,zst,gz} streamed out of it, never unpacked to disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace banger::image {

class DebEntry {
 public:
  virtual ~DebEntry() = default;
  virtual const std::string& path() const = 0;  // "boot/vmlinuz-…", without "./"
  virtual bool isRegularFile() const = 0;
  virtual std::uint64_t size() const = 0;
  // The file's bytes; InvalidArgument when there are more than `maxBytes`.
  virtual std::string read(std::uint64_t maxBytes) = 0;
};

// Calls `onEntry` for each entry of `debPath`'s data archive, in archive order; entries
// the callback does not read are skipped. Throws InvalidArgument naming the package when
// it is not a .deb or is truncated or corrupt. `cancel` is checked between entries.
void forEachDebFile(const std::string& debPath, const std::function<void(DebEntry&)>& onEntry,
                    const std::atomic<bool>* cancel = nullptr);

}  // namespace banger::image
