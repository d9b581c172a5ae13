#include "banger/ext4/image_builder.h"

#include <archive_entry.h>

#include <algorithm>

#include "banger/errors.h"
#include "banger/ext4/entry_path.h"
#include "banger/ext4/tar_entry.h"

namespace banger::ext4 {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::size_t kFastSymlinkMax = 59;  // fits in i_block with its NUL
constexpr std::uint32_t kMaxLinks = 65000;   // EXT4_LINK_MAX: i_links_count is 16 bits

Inode implicitDirectory(LayerRank rank) {
  Inode dir;
  dir.kind = Kind::Directory;
  dir.implicit = true;
  dir.rank = rank;
  dir.permissions = 0755;
  return dir;
}

bool isHardlink(const TarReader& reader) {
  return archive_entry_hardlink(reader.entry()) != nullptr ||
         archive_entry_hardlink_utf8(reader.entry()) != nullptr;
}

// An older explicit directory gives its metadata to one a newer layer only implied.
void adoptMetadata(Inode& dir, const Inode& from) {
  dir.permissions = from.permissions;
  dir.uid = from.uid;
  dir.gid = from.gid;
  dir.mtime = from.mtime;
  dir.mtimeNsec = from.mtimeNsec;
  dir.xattrs = from.xattrs;
  dir.implicit = false;
}

}  // namespace

struct ImageBuilder::Placement {
  std::uint32_t dir = Tree::kRoot;
  std::optional<std::uint32_t> existing;
};

ImageBuilder::ImageBuilder(Volume& volume, BuildLimits limits) : volume_(volume), limits_(limits) {}

void ImageBuilder::refuse(const std::string& layer, const std::string& entry,
                          const std::string& why) {
  fail(ErrorCode::InvalidArgument,
       "layer " + layer + ": entry '" + entry.substr(0, 300) + "': " + why);
}

void ImageBuilder::refuse(const TarReader& layer, const std::string& entry,
                          const std::string& why) {
  refuse(layer.label(), entry, why);
}

void ImageBuilder::addLayer(TarReader& layer, const LayerReopener& reopen) {
  if (finished_) fail(ErrorCode::Failed, "internal: layer added after finish");
  layerFiles_.clear();
  hiddenFiles_.clear();
  deferredFills_.clear();
  while (layer.next()) addEntry(layer);
  if (!deferredFills_.empty()) fillDeferred(reopen, layer.label());
  ++rank_;
}

bool ImageBuilder::place(TarReader& layer, const std::vector<std::string_view>& parts,
                         Placement& where) {
  std::uint32_t dir = Tree::kRoot;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (tree_.inodeOf(dir).opaqueRank < rank_) return false;
    auto found = tree_.child(dir, parts[i]);
    if (found) {
      Inode& node = tree_.inodeOf(*found);
      if (node.kind == Kind::Whiteout) {
        if (node.rank < rank_) return false;
        tree_.unlink(*found, volume_);  // this layer's whiteout only hides older layers
        found.reset();
      } else if (node.kind != Kind::Directory) {
        if (node.rank < rank_) return false;  // a newer layer replaced the directory
        refuse(layer, layer.path(),
               "its parent " + tree_.pathOf(*found) +
                   (node.kind == Kind::Symlink ? " is a symlink in the same layer"
                                               : " is not a directory"));
      }
    }
    dir = found ? *found : tree_.link(dir, parts[i], tree_.newInode(implicitDirectory(rank_)));
  }
  if (!parts.empty() && tree_.inodeOf(dir).opaqueRank < rank_) return false;
  where.dir = dir;
  where.existing =
      parts.empty() ? std::optional<std::uint32_t>(Tree::kRoot) : tree_.child(dir, parts.back());
  return true;
}

void ImageBuilder::whiteout(TarReader& layer, std::uint32_t dir, std::string_view name) {
  if (name == kOpaqueMarker) {
    Inode& parent = tree_.inodeOf(dir);
    parent.opaqueRank = std::min(parent.opaqueRank, rank_);
    return;
  }
  std::string_view hidden = name.substr(kWhiteoutPrefix.size());
  if (hidden.empty() || hidden == "." || hidden == ".." || hidden.starts_with(kWhiteoutPrefix))
    refuse(layer, layer.path(), "a whiteout must name one entry of its own directory");
  if (auto existing = tree_.child(dir, hidden)) {
    (void)existing;  // a newer or the same layer already decided this path
    return;
  }
  Inode marker;
  marker.kind = Kind::Whiteout;
  marker.rank = rank_;
  tree_.link(dir, hidden, tree_.newInode(std::move(marker)));
}

Inode ImageBuilder::entryMetadata(const TarReader& layer, const std::string& path) const {
  Inode inode;
  inode.rank = rank_;
  std::string problem = inodeFromEntry(layer, EntryLimits{limits_.maxXattrValueBytes}, inode);
  if (!problem.empty()) refuse(layer, path, problem);
  return inode;
}

std::uint32_t ImageBuilder::makeInode(TarReader& layer, const std::string& path) {
  return tree_.newInode(entryMetadata(layer, path));
}

void ImageBuilder::addEntry(TarReader& layer) {
  if (++stats_.entries > limits_.maxEntries)
    refuse(layer, layer.path(),
           "the image has more than " + std::to_string(limits_.maxEntries) +
               " entries (image_max_entries)");
  const std::string path = layer.path();
  std::vector<std::string_view> parts;
  std::string problem;
  if (!splitEntryPath(path, parts, problem)) refuse(layer, path, problem);
  const bool hardlink = isHardlink(layer);
  const int type = archive_entry_filetype(layer.entry());

  if (leaveOut_ && type != AE_IFDIR && !parts.empty() && leaveOut_(joinPath(parts))) {
    ++stats_.skipped;
    return;
  }
  Placement where;
  if (!parts.empty() && parts.back().starts_with(kWhiteoutPrefix)) {
    if (place(layer, parts, where)) whiteout(layer, where.dir, parts.back());
    return;
  }
  if (!place(layer, parts, where)) {
    ++stats_.skipped;
    return;
  }
  const std::string key = joinPath(parts);
  if (parts.empty()) {  // "./": the root directory's own metadata
    if (type != AE_IFDIR || hardlink) refuse(layer, path, "the root must be a directory");
    Inode& root = tree_.inode(Tree::kRoot);
    if (root.implicit || root.rank == rank_) {
      adoptMetadata(root, entryMetadata(layer, path));
      root.rank = rank_;
    }
    return;
  }
  std::string_view name = parts.back();
  if (where.existing) {
    Inode& old = tree_.inodeOf(*where.existing);
    bool hidden =
        old.rank < rank_ && !(old.kind == Kind::Directory && type == AE_IFDIR && !hardlink);
    if (old.kind == Kind::Whiteout) hidden = old.rank < rank_;
    // A newer layer put files below this path without stating the directory (banger's own
    // layer does): replacing an older symlink or file with that made-up directory would
    // change the image behind its back (/etc/ssh -> /config/ssh), so it is refused.
    if (hidden && old.kind == Kind::Directory && old.implicit && type != AE_IFDIR)
      refuse(layer, path,
             "is not a directory, but a newer layer puts files below it without saying what "
             "the directory should be");
    if (hidden) {
      ++stats_.skipped;
      // Kept for a hard link in this layer that is not hidden (its bytes come later).
      if (hardlink) {
        std::vector<std::string_view> targetParts;
        if (splitEntryPath(layer.hardlinkTarget(), targetParts, problem))
          if (auto target = layerFiles_.find(joinPath(targetParts)); target != layerFiles_.end())
            layerFiles_[key] = target->second;
      } else if (type != AE_IFDIR && type != AE_IFLNK) {
        std::uint32_t id = makeInode(layer, path);
        layerFiles_[key] = id;
        hiddenFiles_.insert(id);
      }
      return;
    }
    if (old.kind == Kind::Directory && type == AE_IFDIR && !hardlink) {
      // A directory over a directory merges: the newer explicit metadata wins.
      if (old.implicit || old.rank == rank_) {
        adoptMetadata(old, entryMetadata(layer, path));
        old.rank = rank_;
      }
      return;
    }
    tree_.unlink(*where.existing, volume_);  // the same layer again: the last entry wins
  }

  if (hardlink) {
    addHardlink(layer, where.dir, name, path, key);
    return;
  }
  std::uint32_t id = makeInode(layer, path);
  tree_.link(where.dir, name, id);
  ++stats_.written;
  Inode& inode = tree_.inode(id);
  if (inode.kind == Kind::Regular) {
    if (inode.size > limits_.maxBytes - std::min(limits_.maxBytes, stats_.dataBytes))
      refuse(layer, path,
             "the image's files add up to more than " + std::to_string(limits_.maxBytes) +
                 " bytes (image_max_bytes)");
    writeData(layer, inode, path);
  } else if (inode.kind == Kind::Symlink && inode.symlinkTarget.size() > kFastSymlinkMax) {
    writeBytes(inode, 0, inode.symlinkTarget.data(), inode.symlinkTarget.size(), layer, path);
    volume_.padDataToBlock();
  }
  if (inode.kind != Kind::Directory && inode.kind != Kind::Symlink) layerFiles_[key] = id;
}

void ImageBuilder::writeData(TarReader& layer, Inode& inode, const std::string& path) {
  const void* data = nullptr;
  std::size_t size = 0;
  std::int64_t offset = 0;
  while (layer.readBlock(data, size, offset)) {
    if (offset < 0 || static_cast<std::uint64_t>(offset) + size > inode.size)
      refuse(layer, path, "data beyond the size in its header");
    writeBytes(inode, static_cast<std::uint64_t>(offset), data, size, layer, path);
    stats_.dataBytes += size;
    if (progress_) progress_(stats_.dataBytes);
  }
  volume_.padDataToBlock();
}

void ImageBuilder::writeBytes(Inode& inode, std::uint64_t offset, const void* data,
                              std::size_t size, const TarReader& layer, const std::string& path) {
  const std::uint64_t blockSize = volume_.blockSize();
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    std::uint64_t logical = offset / blockSize, within = offset % blockSize;
    Extent* last = inode.extents.empty() ? nullptr : &inode.extents.back();
    std::uint64_t mappedEnd = last ? std::uint64_t{last->logical} + last->length : 0;
    if (last && logical >= last->logical && logical < mappedEnd) {
      std::uint64_t physical = last->physical + (logical - last->logical);
      std::size_t take = static_cast<std::size_t>(
          std::min<std::uint64_t>(size, (mappedEnd - logical) * blockSize - within));
      volume_.writeData(physical * blockSize + within, bytes, take);
      bytes += take;
      offset += take;
      size -= take;
      continue;
    }
    if (logical < mappedEnd) refuse(layer, path, "sparse data out of order");
    if (logical > 0xffffffffull) refuse(layer, path, "data beyond the ext4 file size limit");
    std::uint64_t got = 0;
    std::uint64_t first = volume_.allocateBlocks((within + size + blockSize - 1) / blockSize, got);
    if (last && mappedEnd == logical && last->physical + last->length == first &&
        last->length + got <= 32768)
      last->length += static_cast<std::uint32_t>(got);
    else
      inode.extents.push_back(
          Extent{static_cast<std::uint32_t>(logical), first, static_cast<std::uint32_t>(got)});
  }
}

void ImageBuilder::requireLinkRoom(const Inode& target, const std::string& layer,
                                   const std::string& entry, const std::string& targetPath) {
  if (target.links >= kMaxLinks)
    refuse(layer, entry,
           "more than " + std::to_string(kMaxLinks) + " hard links to '" + targetPath + "'");
}

void ImageBuilder::addHardlink(TarReader& layer, std::uint32_t dir, std::string_view name,
                               const std::string& path, const std::string& key) {
  std::vector<std::string_view> targetParts;
  std::string problem;
  const std::string target = layer.hardlinkTarget();
  if (!splitEntryPath(target, targetParts, problem))
    refuse(layer, path, "hard link target: " + problem);
  const std::string targetKey = joinPath(targetParts);
  if (auto found = layerFiles_.find(targetKey); found != layerFiles_.end()) {
    requireLinkRoom(tree_.inode(found->second), layer.label(), path, targetKey);
    if (hiddenFiles_.erase(found->second)) deferredFills_[targetKey] = found->second;
    tree_.link(dir, name, found->second);
    layerFiles_[key] = found->second;
    ++stats_.written;
    return;
  }
  // The target is in an older layer (or later in this one): resolved at the end.
  Inode placeholder;
  placeholder.kind = Kind::PendingLink;
  placeholder.rank = rank_;
  std::uint32_t dentry = tree_.link(dir, name, tree_.newInode(std::move(placeholder)));
  pendingLinks_.push_back(PendingLink{dentry, targetKey, layer.label(), path});
}

void ImageBuilder::fillDeferred(const LayerReopener& reopen, const std::string& label) {
  const std::string example = deferredFills_.begin()->first;
  if (!reopen)
    fail(ErrorCode::InvalidArgument, "layer " + label + ": a hard link points at '" + example +
                                         "', which a newer layer replaced; this source cannot be "
                                         "read a second time for its bytes");
  std::unique_ptr<TarReader> again = reopen();
  std::vector<std::string_view> parts;
  std::string problem;
  while (!deferredFills_.empty() && again->next()) {
    if (isHardlink(*again) || archive_entry_filetype(again->entry()) != AE_IFREG) continue;
    std::string path = again->path();
    if (!splitEntryPath(path, parts, problem)) continue;
    auto found = deferredFills_.find(joinPath(parts));
    if (found == deferredFills_.end()) continue;
    writeData(*again, tree_.inode(found->second), path);
    deferredFills_.erase(found);
  }
  if (!deferredFills_.empty())
    fail(ErrorCode::InvalidArgument, "layer " + label + ": hard link target '" +
                                         deferredFills_.begin()->first +
                                         "' has no data on a second read of the layer");
}

std::optional<std::uint32_t> ImageBuilder::lookup(const std::string& path) const {
  std::vector<std::string_view> parts;
  std::string problem;
  if (!splitEntryPath(path, parts, problem)) return std::nullopt;
  std::uint32_t at = Tree::kRoot;
  for (auto part : parts) {
    if (tree_.inodeOf(at).kind != Kind::Directory) return std::nullopt;  // never through symlinks
    auto next = tree_.child(at, part);
    if (!next) return std::nullopt;
    at = *next;
  }
  return at;
}

BuildStats ImageBuilder::finish() {
  if (finished_) fail(ErrorCode::Failed, "internal: finish called twice");
  finished_ = true;
  // Links may point at links; resolve until nothing changes.
  for (bool progress = true; progress && !pendingLinks_.empty();) {
    progress = false;
    for (auto it = pendingLinks_.begin(); it != pendingLinks_.end();) {
      if (!tree_.dentry(it->dentry).live) {  // replaced later in its own layer
        it = pendingLinks_.erase(it);
        continue;
      }
      auto target = lookup(it->target);
      Kind kind = target ? tree_.inodeOf(*target).kind : Kind::Whiteout;
      if (kind == Kind::PendingLink) {
        ++it;
        continue;
      }
      if (!target || kind == Kind::Whiteout)
        refuse(it->layer, it->entry,
               "hard link to '" + it->target + "', which is not in the image");
      if (kind == Kind::Directory || kind == Kind::Symlink)
        refuse(it->layer, it->entry,
               "hard link to '" + it->target + "', which is a " +
                   (kind == Kind::Directory ? "directory" : "symlink"));
      requireLinkRoom(tree_.inodeOf(*target), it->layer, it->entry, it->target);
      Dentry& link = tree_.dentry(it->dentry);
      tree_.inode(link.inode).links = 0;
      link.inode = tree_.dentry(*target).inode;
      tree_.inode(link.inode).links++;
      ++stats_.written;
      it = pendingLinks_.erase(it);
      progress = true;
    }
  }
  if (!pendingLinks_.empty())
    refuse(pendingLinks_.front().layer, pendingLinks_.front().entry, "hard links form a cycle");
  tree_.dropWhiteouts(volume_);
  auto warnings = tree_.writeMetadata(volume_);
  stats_.warnings.insert(stats_.warnings.end(), warnings.begin(), warnings.end());
  volume_.close();
  return stats_;
}

}  // namespace banger::ext4
