#include "injection.h"

#include "banger/ext4/tar_writer.h"
#include "guest_layout.h"

namespace banger::image {
namespace {
constexpr const char* kUnitDir = "etc/systemd/system";
constexpr const char* kUnits[] = {"banger-agent.service", "banger-hostkeys.service",
                                  "banger-first-boot.service"};
}  // namespace

std::string injectionLayer(std::int64_t mtime, const GuestFiles& guest) {
  std::string tar;
  auto writer = ext4::TarWriter::toMemory(tar);
  const ext4::TarMeta program{.mode = 0755, .mtime = mtime};
  const ext4::TarMeta data{.mode = 0644, .mtime = mtime};
  const ext4::TarMeta link{.mode = 0777, .mtime = mtime};
  // No directory entries: the directories an image has keep its own metadata (a newer
  // explicit directory would win); missing ones are made 0755 root.
  writer->file(std::string(guest::kInitInImage + 1), program, guest.init());
  writer->file(std::string(guest::kAgentInImage + 1), program, guest.agent());
  writer->file("usr/lib/banger/banger-first-boot", program, guest.file("banger-first-boot"));
  for (const char* unit : kUnits) {
    writer->file(std::string(kUnitDir) + "/" + unit, data, guest.file(unit));
    writer->symlink(std::string(kUnitDir) + "/multi-user.target.wants/" + unit, link,
                    "/" + std::string(kUnitDir) + "/" + unit);
  }
  writer->file(std::string(kSshdDropIn + 1), data, guest.file("99-banger.conf"));
  writer->file(std::string(kSshUnitDropIn + 1), data, guest.file("ssh-early.conf"));
  for (const char* unit : guest::kUnitsDoneAtBoot)
    writer->file(std::string(kUnitDir) + "/" + unit + ".d/" + guest::kDoneAtBootDropIn, data,
                 guest.file("done-by-banger-init.conf"));
  for (const char* unit : kMaskedUnits)
    writer->symlink(std::string(kUnitDir) + "/" + unit, link, "/dev/null");
  writer->symlink(std::string(kNologinTmpfiles + 1), link, "/dev/null");
  writer->close();
  return tar;
}

bool isSshHostKey(const std::string& path) { return path.starts_with("/etc/ssh/ssh_host_"); }

}  // namespace banger::image
