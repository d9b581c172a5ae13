// Builds one ext4 filesystem from a stack of tar layers in a single pass, the way an OCI
// runtime would see the layers stacked (image-spec layer.md): layers are given newest
// first, so whatever a newer layer decided (a file, a whiteout, an opaque directory) is
// already in the tree when an older layer's entry arrives, and the older entry is
// skipped without its data ever being written. A single tar is a stack of one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "banger/ext4/tar_reader.h"
#include "banger/ext4/tree.h"
#include "banger/ext4/volume.h"

namespace banger::ext4 {

struct BuildLimits {
  std::uint64_t maxBytes = 64ull << 30;    // the sum of all file sizes (image_max_bytes)
  std::uint64_t maxEntries = 2'000'000;    // tar entries read, over all layers
  std::size_t maxXattrValueBytes = 65536;  // XATTR_SIZE_MAX
};

struct BuildStats {
  std::uint64_t entries = 0;    // read from all layers
  std::uint64_t written = 0;    // ended up in the image
  std::uint64_t skipped = 0;    // hidden by a newer layer or a whiteout
  std::uint64_t dataBytes = 0;  // file bytes written
  std::vector<std::string> warnings;
};

// Opens a layer again, for the rare hard link whose target a newer layer hid (its bytes
// were skipped on the first read). Empty when the source cannot be read twice.
using LayerReopener = std::function<std::unique_ptr<TarReader>()>;

class ImageBuilder {
 public:
  ImageBuilder(Volume& volume, BuildLimits limits);

  // Adds the next layer; call newest first. Hostile entries throw InvalidArgument naming
  // the layer's label and the entry; corrupt streams throw IntegrityError.
  void addLayer(TarReader& layer, const LayerReopener& reopen = {});

  // Resolves hard links that pointed below their layer, writes all metadata and closes
  // the volume. Nothing is written to the volume's file after this.
  BuildStats finish();

  // A callback with the bytes consumed so far (file data), for progress.
  void onProgress(std::function<void(std::uint64_t)> progress) { progress_ = std::move(progress); }

  // Leaves out every entry that is not a directory and whose path ("/etc/ssh/x") the
  // predicate picks, in every layer, as if it had never been there.
  void exclude(std::function<bool(const std::string&)> leaveOut) {
    leaveOut_ = std::move(leaveOut);
  }

 private:
  struct Placement;
  struct PendingLink {
    std::uint32_t dentry;
    std::string target;
    std::string layer;
    std::string entry;
  };

  void addEntry(TarReader& layer);
  bool place(TarReader& layer, const std::vector<std::string_view>& parts, Placement& where);
  void whiteout(TarReader& layer, std::uint32_t dir, std::string_view name);
  Inode entryMetadata(const TarReader& layer, const std::string& path) const;
  std::uint32_t makeInode(TarReader& layer, const std::string& path);
  void writeData(TarReader& layer, Inode& inode, const std::string& path);
  void writeBytes(Inode& inode, std::uint64_t offset, const void* data, std::size_t size,
                  const TarReader& layer, const std::string& path);
  void addHardlink(TarReader& layer, std::uint32_t dir, std::string_view name,
                   const std::string& path, const std::string& key);
  void fillDeferred(const LayerReopener& reopen, const std::string& label);
  std::optional<std::uint32_t> lookup(const std::string& path) const;
  // InvalidArgument naming the layer (its label) and the entry.
  [[noreturn]] static void refuse(const std::string& layer, const std::string& entry,
                                  const std::string& why);
  [[noreturn]] static void refuse(const TarReader& layer, const std::string& entry,
                                  const std::string& why);
  static void requireLinkRoom(const Inode& target, const std::string& layer,
                              const std::string& entry, const std::string& targetPath);

  Volume& volume_;
  BuildLimits limits_;
  Tree tree_;
  BuildStats stats_;
  LayerRank rank_ = 0;
  std::function<void(std::uint64_t)> progress_;
  std::function<bool(const std::string&)> leaveOut_;
  // Per layer, the hard link targets: each non-directory of this layer by path and the
  // inode it became. Files a newer layer hid get an inode too (in hiddenFiles_) whose
  // bytes are read only if a visible hard link needs them.
  std::unordered_map<std::string, std::uint32_t> layerFiles_;
  std::unordered_set<std::uint32_t> hiddenFiles_;
  std::unordered_map<std::string, std::uint32_t> deferredFills_;  // path → inode to fill
  std::vector<PendingLink> pendingLinks_;
  bool finished_ = false;
};

}  // namespace banger::ext4
