#include "injection.h"

#include "banger/ext4/tar_writer.h"

namespace banger::image {
namespace {
// StrictModes stays at its default (yes): the work disk's /root and .ssh are made to pass.
constexpr const char* kSshdConfig =
    "# Written by banger into every image. Keys only, for root, from the work disk.\n"
    "PermitRootLogin prohibit-password\n"
    "PubkeyAuthentication yes\n"
    "PasswordAuthentication no\n"
    "KbdInteractiveAuthentication no\n"
    "AuthorizedKeysFile /root/.ssh/authorized_keys\n";
}  // namespace

std::string injectionLayer(std::int64_t mtime) {
  std::string tar;
  auto writer = ext4::TarWriter::toMemory(tar);
  // No directory entries: the directories an image has keep its own metadata (a newer
  // explicit directory would win); missing ones are made 0755 root.
  writer->file(std::string(kSshdDropIn + 1), ext4::TarMeta{.mode = 0644, .mtime = mtime},
               kSshdConfig);
  writer->close();
  return tar;
}

bool isSshHostKey(const std::string& path) { return path.starts_with("/etc/ssh/ssh_host_"); }

}  // namespace banger::image
