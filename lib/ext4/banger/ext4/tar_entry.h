// The metadata of one tar entry as an inode: type, owner, mode, time, device numbers,
// symlink target and the xattrs an image may carry (ACLs converted to their xattrs).
#pragma once

#include <cstddef>
#include <string>

#include "banger/ext4/tar_reader.h"
#include "banger/ext4/tree.h"

namespace banger::ext4 {

struct EntryLimits {
  std::size_t maxXattrValueBytes = 65536;
};

// Fills `inode` from the reader's current entry. Returns why the entry cannot go into an
// image (unknown type, an owner beyond 32 bits, a symlink target over the limit, an
// oversized xattr), or an empty string.
std::string inodeFromEntry(const TarReader& reader, const EntryLimits& limits, Inode& inode);

// Whether an xattr name is one an image keeps: user.*, trusted.*, security.capability
// and the POSIX ACLs; the host's security.selinux label and the rest are dropped.
bool keepsXattr(const std::string& name);

}  // namespace banger::ext4
