// The one-pass tar → ext4 writer, read back with libext2fs and checked by e2fsck.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "banger/errors.h"
#include "banger/ext4/image_builder.h"
#include "ext4_reader.h"
#include "harness.h"
#include "tar_builder.h"

namespace banger::ext4 {
namespace {

using test::Compression;
using test::Ext4Reader;
using test::TarBuilder;
using test::TarEntry;

class Ext4Writer : public ::testing::Test {
 protected:
  // Writes the layers (newest first) into a fresh image and checks it with e2fsck.
  BuildStats build(const std::vector<std::string>& layersNewestFirst, FormatOptions format = {},
                   BuildLimits limits = {}) {
    if (format.sizeBytes == 0) format.sizeBytes = 64ull << 20;
    Volume volume(image(), format);
    ImageBuilder builder(volume, limits);
    int index = 0;
    for (const auto& layer : layersNewestFirst) {
      auto reader =
          TarReader::openMemory(layer.data(), layer.size(), "layer" + std::to_string(index++));
      builder.addLayer(
          *reader, [&layer] { return TarReader::openMemory(layer.data(), layer.size(), "again"); });
    }
    BuildStats stats = builder.finish();
    EXPECT_EQ(test::fsckProblems(image()), "");
    return stats;
  }
  std::string image() const { return (dir_.path() / "rootfs.ext4").string(); }

  test::TempDir dir_;
};

TEST_F(Ext4Writer, WritesEveryEntryKindWithItsMetadata) {
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::string longTarget(200, 't');
  TarBuilder tar;
  tar.dir("etc", 0755)
      .file("etc/hostname", "box\n", 0644)
      .add({.type = TarEntry::Type::File,
            .path = "usr/bin/sudo",
            .content = "ELF",
            .mode = 04755,
            .uid = 0,
            .gid = 0})
      .add({.type = TarEntry::Type::Dir, .path = "tmp", .mode = 01777})
      .add({.type = TarEntry::Type::File,
            .path = "home/dev/notes",
            .content = "hi",
            .mode = 0600,
            .uid = 1000,
            .gid = 1000,
            .mtime = 1234567890})
      .file("usr/lib/big.bin", big)
      .symlink("usr/lib/short", "big.bin")
      .symlink("usr/lib/long", longTarget)
      .hardlink("usr/lib/big-again", "usr/lib/big.bin")
      .add({.type = TarEntry::Type::CharDevice,
            .path = "dev/null",
            .mode = 0666,
            .major = 1,
            .minor = 3})
      .add({.type = TarEntry::Type::BlockDevice,
            .path = "dev/big",
            .mode = 0660,
            .major = 259,
            .minor = 300})
      .add({.type = TarEntry::Type::Fifo, .path = "run/fifo", .mode = 0600})
      .file("empty", "");
  build({tar.bytes()});

  Ext4Reader fs(image());
  EXPECT_EQ(fs.read("/etc/hostname"), "box\n");
  EXPECT_EQ(fs.read("/usr/lib/big.bin"), big);
  EXPECT_EQ(fs.read("/empty"), "");
  EXPECT_EQ(fs.stat("/usr/bin/sudo")->mode, S_IFREG | 04755u);
  EXPECT_EQ(fs.stat("/tmp")->mode, S_IFDIR | 01777u);
  auto notes = fs.stat("/home/dev/notes");
  ASSERT_TRUE(notes);
  EXPECT_EQ(notes->uid, 1000u);
  EXPECT_EQ(notes->gid, 1000u);
  EXPECT_EQ(notes->mode, S_IFREG | 0600u);
  EXPECT_EQ(notes->mtime, 1234567890);
  EXPECT_EQ(fs.stat("/home")->mode, S_IFDIR | 0755u) << "an implied parent is 0755";
  EXPECT_EQ(fs.readlink("/usr/lib/short"), "big.bin");
  EXPECT_EQ(fs.readlink("/usr/lib/long"), longTarget);
  EXPECT_EQ(fs.stat("/usr/lib/big-again")->ino, fs.stat("/usr/lib/big.bin")->ino);
  EXPECT_EQ(fs.stat("/usr/lib/big.bin")->links, 2u);
  auto null = fs.stat("/dev/null");
  EXPECT_EQ(null->mode, S_IFCHR | 0666u);
  EXPECT_EQ(null->rdevMajor, 1u);
  EXPECT_EQ(null->rdevMinor, 3u);
  auto bigDev = fs.stat("/dev/big");
  EXPECT_EQ(bigDev->mode, S_IFBLK | 0660u);
  EXPECT_EQ(bigDev->rdevMajor, 259u);
  EXPECT_EQ(bigDev->rdevMinor, 300u);
  EXPECT_EQ(fs.stat("/run/fifo")->mode, S_IFIFO | 0600u);
  EXPECT_TRUE(fs.stat("/lost+found"));
}

TEST_F(Ext4Writer, KeepsCapabilitiesAclsAndUserXattrsButNotTheHostsSelinuxLabel) {
  std::string capability(
      "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  TarBuilder tar;
  tar.add({.type = TarEntry::Type::File,
           .path = "usr/bin/ping",
           .content = "ELF",
           .mode = 0755,
           .xattrs = {{"security.capability", capability},
                      {"security.selinux", "system_u:object_r:bin_t"}}});
  tar.add({.type = TarEntry::Type::File,
           .path = "data",
           .content = "d",
           .mode = 0640,
           .xattrs = {{"user.origin", "test"}},
           .aclText = "user::rw-,user:1000:r--,group::r--,mask::r--,other::---"});
  build({tar.bytes(Compression::Gzip)});

  Ext4Reader fs(image());
  auto pingXattrs = fs.xattrs("/usr/bin/ping");
  EXPECT_EQ(pingXattrs["security.capability"], capability);
  EXPECT_EQ(pingXattrs.count("security.selinux"), 0u);
  auto dataXattrs = fs.xattrs("/data");
  EXPECT_EQ(dataXattrs["user.origin"], "test");
  ASSERT_EQ(dataXattrs.count("system.posix_acl_access"), 1u);
  // version 2, then (tag, perm, id) for user::rw-, user:1000:r--, group::r--, mask, other
  const std::string& acl = dataXattrs["system.posix_acl_access"];
  ASSERT_EQ(acl.size(), 4u + 5 * 8);
  EXPECT_EQ(acl[4 + 8], 0x02) << "the second entry is the named user";
  EXPECT_EQ(static_cast<unsigned char>(acl[4 + 8 + 4]), 1000 % 256);
}

TEST_F(Ext4Writer, KeepsHolesInSparseFiles) {
  TarEntry sparse{.type = TarEntry::Type::File, .path = "var/sparse.img", .mode = 0644};
  sparse.sparseSize = 64 << 20;
  sparse.sparseData = {{0, std::string(4096, 'A')}, {(32 << 20), std::string(8192, 'B')}};
  TarBuilder tar;
  tar.add(sparse);
  build({tar.bytes()}, FormatOptions{.sizeBytes = 32ull << 20});

  Ext4Reader fs(image());
  auto st = fs.stat("/var/sparse.img");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->size, 64u << 20);
  EXPECT_EQ(st->allocatedBlocks, 3u) << "only the three data blocks are allocated";
  EXPECT_FALSE(fs.isHole("/var/sparse.img", 0));
  EXPECT_TRUE(fs.isHole("/var/sparse.img", 1));
  EXPECT_FALSE(fs.isHole("/var/sparse.img", (32 << 20) / 4096));
  std::string content = fs.read("/var/sparse.img");
  EXPECT_EQ(content.substr(0, 4096), std::string(4096, 'A'));
  EXPECT_EQ(content.substr(4096, 4096), std::string(4096, '\0'));
  EXPECT_EQ(content.substr(32 << 20, 8192), std::string(8192, 'B'));
}

TEST_F(Ext4Writer, WritesFilesWithManyExtentsThroughAnExtentTree) {
  TarEntry sparse{.type = TarEntry::Type::File, .path = "many-extents", .mode = 0644};
  sparse.sparseSize = 4096 * 2000;
  for (int i = 0; i < 1000; ++i)
    sparse.sparseData.emplace_back(i * 8192, std::string(4096, static_cast<char>('a' + i % 26)));
  TarBuilder tar;
  tar.add(sparse);
  build({tar.bytes(Compression::Zstd)});
  Ext4Reader fs(image());
  std::string content = fs.read("/many-extents");
  ASSERT_EQ(content.size(), 4096u * 2000);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(content[static_cast<std::size_t>(i) * 8192], static_cast<char>('a' + i % 26)) << i;
    ASSERT_EQ(content[static_cast<std::size_t>(i) * 8192 + 4096], '\0') << i;
  }
}

TEST_F(Ext4Writer, ALargeDirectorySpansBlocks) {
  TarBuilder tar;
  for (int i = 0; i < 3000; ++i)
    tar.file("many/file-with-a-longish-name-" + std::to_string(i), std::to_string(i));
  build({tar.bytes()});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.names("/many").size(), 3000u);
  EXPECT_EQ(fs.read("/many/file-with-a-longish-name-2999"), "2999");
}

TEST_F(Ext4Writer, TheLastOfDuplicateEntriesWins) {
  TarBuilder tar;
  tar.file("dup", "first").file("dup", "second").dir("d").file("d/x", "x").file("d", "now a file");
  build({tar.bytes()});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.read("/dup"), "second");
  EXPECT_EQ(fs.read("/d"), "now a file");
}

TEST_F(Ext4Writer, TheSameDigestGivesTheSameBytes) {
  TarBuilder tar;
  tar.file("a", "alpha").dir("b").symlink("b/c", "../a");
  FormatOptions fixed{
      .sizeBytes = 32ull << 20, .uuid = {1, 2, 3}, .hashSeed = {4, 5, 6}, .timestamp = 1700000000};
  build({tar.bytes()}, fixed);
  std::string first = test::readFile(image());
  build({tar.bytes()}, fixed);
  EXPECT_TRUE(first == test::readFile(image())) << "two builds of the same input differ";
}

TEST_F(Ext4Writer, RefusesAnImageOverTheByteCap) {
  TarBuilder tar;
  tar.file("a", std::string(5000, 'a')).file("b", std::string(5000, 'b'));
  try {
    build({tar.bytes()}, {}, BuildLimits{.maxBytes = 8000});
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("'b'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("image_max_bytes"), std::string::npos) << error.what();
  }
}

TEST_F(Ext4Writer, SaysWhenTheContentDoesNotFitTheImage) {
  TarBuilder tar;
  tar.file("big", std::string(12 << 20, 'z'));
  try {
    build({tar.bytes()}, FormatOptions{.sizeBytes = 8ull << 20});
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("does not fit"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace banger::ext4
