// A real Debian rootfs tar written by the ext4 writer: every path, type, mode, owner,
// size, link count and symlink target in the tar is in the image, and e2fsck is happy.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "banger/ext4/entry_path.h"
#include "banger/ext4/image_builder.h"
#include "debian_rootfs.h"
#include "ext4_reader.h"
#include "harness.h"

namespace banger::test {
namespace {

// The tar's entries in Ext4Reader::listing's format.
std::vector<std::string> tarListing(const std::string& tar) {
  struct Item {
    unsigned mode;
    long long uid, gid, size;
    std::string target;
  };
  std::map<std::string, Item> items;
  std::map<std::string, std::string> hardlinks;  // path → target path
  auto reader = ext4::TarReader::openFile(tar, tar);
  while (reader->next()) {
    std::string path = ext4::joinPath(ext4::requireEntryPath(reader->path(), "entry"));
    if (path == "/") continue;
    std::string link = reader->hardlinkTarget();
    if (!link.empty()) {
      hardlinks[path] = ext4::joinPath(ext4::requireEntryPath(link, "link"));
      continue;
    }
    archive_entry* entry = reader->entry();
    items[path] =
        Item{static_cast<unsigned>(archive_entry_mode(entry)), archive_entry_uid(entry),
             archive_entry_gid(entry), archive_entry_size(entry), reader->symlinkTarget()};
  }
  std::map<std::string, int> links;
  for (const auto& [path, item] : items) links[path] = 1;
  for (const auto& [path, target] : hardlinks) {
    items[path] = items.at(target);
    links[target]++;
  }
  for (const auto& [path, target] : hardlinks) links[path] = links[target];
  std::vector<std::string> lines;
  for (const auto& [path, item] : items) {
    std::string text =
        listingLine(path, item.mode, static_cast<std::uint64_t>(item.uid),
                    static_cast<std::uint64_t>(item.gid), static_cast<std::uint64_t>(item.size),
                    static_cast<std::uint32_t>(links[path]), item.target);
    lines.push_back(text);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(DebianRootfs, RoundTripsThroughTheWriter) {
  std::string why;
  auto tar = debianRootfsTar(why);
  if (!tar) GTEST_SKIP() << why;
  TempDir dir;
  const std::string image = (dir.path() / "rootfs.ext4").string();
  ext4::Volume volume(image, ext4::FormatOptions{.sizeBytes = 1ull << 30});
  ext4::ImageBuilder builder(volume, {});
  auto reader = ext4::TarReader::openFile(*tar, *tar);
  builder.addLayer(*reader);
  auto stats = builder.finish();
  EXPECT_TRUE(stats.warnings.empty()) << stats.warnings.front();
  EXPECT_EQ(fsckProblems(image), "");

  auto expected = tarListing(*tar);
  auto actual = Ext4Reader(image).listing();
  EXPECT_GT(expected.size(), 10000u);
  std::vector<std::string> missing, extra;
  std::set_difference(expected.begin(), expected.end(), actual.begin(), actual.end(),
                      std::back_inserter(missing));
  std::set_difference(actual.begin(), actual.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  EXPECT_TRUE(missing.empty()) << missing.size() << " tar entries differ in the image, e.g. "
                               << missing.front();
  EXPECT_TRUE(extra.empty()) << extra.size() << " image entries are not in the tar, e.g. "
                             << extra.front();

  // ping keeps its capability, so it works without setuid in the guest.
  Ext4Reader fs(image);
  ASSERT_TRUE(fs.stat("/usr/bin/ping"));
  EXPECT_EQ(fs.xattrs("/usr/bin/ping").count("security.capability"), 1u);
}

}  // namespace
}  // namespace banger::test
