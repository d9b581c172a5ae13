// Changes files inside an existing ext4 image with libext2fs, without a mount: how the Vm
// service puts authorized_keys and file_sync entries into a VM's work disk at every
// start (DESIGN §5). Paths are absolute inside the image; nothing is followed through a
// symlink, so an entry in the image cannot send a write elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "banger/ext4/tree_sink.h"
#include "banger/ext4/volume.h"

struct struct_ext2_filsys;

namespace banger::ext4 {

struct Ownership {
  std::uint32_t mode = 0644;  // permission bits
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

class FileEditor {
 public:
  // Opens `image` read-write. InvalidArgument when it is not an ext2/3/4 image.
  explicit FileEditor(const std::string& image);
  // Formats `image` as an ext4 holding only / (0755, root's) and lost+found and goes on
  // editing it without closing and opening it again (a VM's overlay and work disks).
  static FileEditor formatNew(const std::string& image, const FormatOptions& options);
  ~FileEditor();
  FileEditor(const FileEditor&) = delete;
  FileEditor& operator=(const FileEditor&) = delete;

  // mkdir -p: directories made on the way are 0755 root's, existing ones are left as they
  // are. A non-directory in the way is InvalidArgument naming it. Returns the inode.
  unsigned makeDirectories(const std::string& path);
  // makeDirectories, then the last directory gets `owner`, whether it was there or not.
  void directory(const std::string& path, const Ownership& owner);
  // Creates or replaces a regular file (a directory in the way is InvalidArgument).
  // The parent must exist. VolumeFull-like errors are Failed naming the image and path.
  void file(const std::string& path, std::string_view content, const Ownership& owner);
  // The same with the data handed over piece by piece; `size` bytes in all.
  void file(const std::string& path, std::uint64_t size, const TreeSink::Producer& produce,
            const Ownership& owner);
  // Creates or replaces a symlink.
  void symlink(const std::string& path, const std::string& target, const Ownership& owner);
  // Writes everything out and closes; the destructor closes without raising.
  void close();

 private:
  FileEditor(std::string image, struct_ext2_filsys* adopted)
      : image_(std::move(image)), fs_(adopted) {}
  unsigned lookupParent(const std::string& path, std::string& name);
  void removeExisting(unsigned dir, const std::string& name, const std::string& path);
  unsigned newInode(unsigned dir, const std::string& name, std::uint32_t type,
                    const Ownership& owner, int direntType);
  void check(long code, const std::string& what) const;

  std::string image_;
  struct_ext2_filsys* fs_ = nullptr;
};

// A tree walked into an image through a FileEditor: "./a/b" lands at `under` + "a/b" with
// the entry's mode and owner (how a work seed becomes a VM's work disk).
class EditorSink final : public TreeSink {
 public:
  EditorSink(FileEditor& editor, std::string under) : editor_(editor), under_(std::move(under)) {}
  void directory(const std::string& path, const TarMeta& meta) override;
  void file(const std::string& path, const TarMeta& meta, std::uint64_t size,
            const Producer& produce) override;
  void symlink(const std::string& path, const TarMeta& meta, const std::string& target) override;

 private:
  std::string place(const std::string& path) const;
  FileEditor& editor_;
  std::string under_;
};

}  // namespace banger::ext4
