#include "banger/ext4/tar_entry.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <tuple>

#include "banger/ext4/entry_path.h"

namespace banger::ext4 {
namespace {

// The kernel's xattr form of a POSIX ACL (linux/posix_acl_xattr.h).
constexpr std::uint32_t kAclXattrVersion = 2;
constexpr std::uint16_t kAclUserObj = 0x01, kAclUser = 0x02, kAclGroupObj = 0x04, kAclGroup = 0x08,
                        kAclMask = 0x10, kAclOther = 0x20;
constexpr std::uint32_t kAclUndefinedId = 0xffffffffu;

void appendLittleEndian(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// libarchive's parsed ACL of one type (from SCHILY.acl.* or a GNU tar header) as the
// value of system.posix_acl_access/default; empty when the entry has none.
std::string aclXattr(archive_entry* entry, int type) {
  if (archive_entry_acl_reset(entry, type) <= 0) return {};
  std::vector<std::tuple<std::uint16_t, std::uint32_t, std::uint16_t>> entries;
  int entryType = 0, permset = 0, tag = 0, qualifier = 0;
  const char* name = nullptr;
  while (archive_entry_acl_next(entry, type, &entryType, &permset, &tag, &qualifier, &name) ==
         ARCHIVE_OK) {
    std::uint16_t aclTag = 0;
    std::uint32_t id = kAclUndefinedId;
    switch (tag) {
      case ARCHIVE_ENTRY_ACL_USER_OBJ:
        aclTag = kAclUserObj;
        break;
      case ARCHIVE_ENTRY_ACL_USER:
        aclTag = kAclUser;
        id = static_cast<std::uint32_t>(qualifier);
        break;
      case ARCHIVE_ENTRY_ACL_GROUP_OBJ:
        aclTag = kAclGroupObj;
        break;
      case ARCHIVE_ENTRY_ACL_GROUP:
        aclTag = kAclGroup;
        id = static_cast<std::uint32_t>(qualifier);
        break;
      case ARCHIVE_ENTRY_ACL_MASK:
        aclTag = kAclMask;
        break;
      case ARCHIVE_ENTRY_ACL_OTHER:
        aclTag = kAclOther;
        break;
      default:
        continue;  // NFSv4 entries have no POSIX form
    }
    auto perms = static_cast<std::uint16_t>(((permset & ARCHIVE_ENTRY_ACL_READ) ? 4 : 0) |
                                            ((permset & ARCHIVE_ENTRY_ACL_WRITE) ? 2 : 0) |
                                            ((permset & ARCHIVE_ENTRY_ACL_EXECUTE) ? 1 : 0));
    entries.emplace_back(aclTag, id, perms);
  }
  if (entries.empty()) return {};
  std::sort(entries.begin(), entries.end());  // the kernel wants them by tag, then id
  std::string value;
  appendLittleEndian(value, kAclXattrVersion, 4);
  for (auto [aclTag, id, perms] : entries) {
    appendLittleEndian(value, aclTag, 2);
    appendLittleEndian(value, perms, 2);
    appendLittleEndian(value, id, 4);
  }
  return value;
}

}  // namespace

bool keepsXattr(const std::string& name) {
  return name.starts_with("user.") || name.starts_with("trusted.") ||
         name == "security.capability" || name == "system.posix_acl_access" ||
         name == "system.posix_acl_default";
}

std::string inodeFromEntry(const TarReader& reader, const EntryLimits& limits, Inode& inode) {
  archive_entry* entry = reader.entry();
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      inode.kind = Kind::Regular;
      break;
    case AE_IFDIR:
      inode.kind = Kind::Directory;
      break;
    case AE_IFLNK:
      inode.kind = Kind::Symlink;
      break;
    case AE_IFCHR:
      inode.kind = Kind::CharDevice;
      break;
    case AE_IFBLK:
      inode.kind = Kind::BlockDevice;
      break;
    case AE_IFIFO:
      inode.kind = Kind::Fifo;
      break;
    case AE_IFSOCK:
      inode.kind = Kind::Socket;
      break;
    default:
      return "unknown entry type";
  }
  la_int64_t uid = archive_entry_uid(entry), gid = archive_entry_gid(entry);
  if (uid < 0 || gid < 0 || uid > 0xffffffffLL || gid > 0xffffffffLL)
    return "owner " + std::to_string(uid) + ":" + std::to_string(gid) + " does not fit in 32 bits";
  inode.uid = static_cast<std::uint32_t>(uid);
  inode.gid = static_cast<std::uint32_t>(gid);
  inode.permissions = static_cast<std::uint32_t>(archive_entry_perm(entry)) & 07777;
  inode.mtime = archive_entry_mtime(entry);
  long nsec = archive_entry_mtime_nsec(entry);
  inode.mtimeNsec = nsec > 0 && nsec < 1000000000 ? static_cast<std::uint32_t>(nsec) : 0;
  if (inode.kind == Kind::Regular) {
    la_int64_t size = archive_entry_size(entry);
    if (size < 0) return "negative size";
    inode.size = static_cast<std::uint64_t>(size);
  }
  if (inode.kind == Kind::CharDevice || inode.kind == Kind::BlockDevice) {
    inode.deviceMajor = static_cast<std::uint32_t>(archive_entry_rdevmajor(entry));
    inode.deviceMinor = static_cast<std::uint32_t>(archive_entry_rdevminor(entry));
    if (inode.deviceMajor > 0xfff || inode.deviceMinor > 0xfffff)
      return "device number out of range";
  }
  if (inode.kind == Kind::Symlink) {
    inode.symlinkTarget = reader.symlinkTarget();
    if (inode.symlinkTarget.empty()) return "symlink with an empty target";
    if (inode.symlinkTarget.size() > kMaxSymlinkBytes)
      return "symlink target is " + std::to_string(inode.symlinkTarget.size()) +
             " bytes, over the limit of " + std::to_string(kMaxSymlinkBytes);
    if (inode.symlinkTarget.find('\0') != std::string::npos)
      return "symlink target contains a NUL byte";
    inode.size = inode.symlinkTarget.size();
  }

  archive_entry_xattr_reset(entry);
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    std::string key = name ? name : "";
    if (key.size() > kMaxNameBytes)
      return "xattr name over " + std::to_string(kMaxNameBytes) + " bytes";
    if (size > limits.maxXattrValueBytes)
      return "xattr " + key + " is " + std::to_string(size) + " bytes, over the limit of " +
             std::to_string(limits.maxXattrValueBytes);
    if (!keepsXattr(key)) continue;
    inode.xattrs.push_back(Xattr{key, std::string(static_cast<const char*>(value), size)});
  }
  auto hasXattr = [&](std::string_view key) {
    return std::any_of(inode.xattrs.begin(), inode.xattrs.end(),
                       [&](const Xattr& x) { return x.name == key; });
  };
  for (auto [type, key] : {std::pair{ARCHIVE_ENTRY_ACL_TYPE_ACCESS, "system.posix_acl_access"},
                           std::pair{ARCHIVE_ENTRY_ACL_TYPE_DEFAULT, "system.posix_acl_default"}}) {
    if (hasXattr(key)) continue;
    std::string acl = aclXattr(entry, type);
    if (!acl.empty()) inode.xattrs.push_back(Xattr{key, std::move(acl)});
  }
  return {};
}

}  // namespace banger::ext4
