// Stacking OCI layers into one filesystem (image-spec layer.md: whiteouts, opaque
// directories, later layers winning) and refusing hostile layers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "banger/errors.h"
#include "banger/ext4/image_builder.h"
#include "ext4_reader.h"
#include "harness.h"
#include "tar_builder.h"

namespace banger::ext4 {
namespace {

using test::Ext4Reader;
using test::TarBuilder;
using test::TarEntry;

class Ext4Layers : public ::testing::Test {
 protected:
  // Layers given oldest first, as a manifest lists them; written newest first.
  void stack(const std::vector<TarBuilder>& oldestFirst, bool reopenable = true) {
    std::vector<std::string> bytes;
    for (const auto& layer : oldestFirst) bytes.push_back(layer.bytes());
    Volume volume(image(), FormatOptions{.sizeBytes = 64ull << 20});
    ImageBuilder builder(volume, {});
    for (std::size_t i = bytes.size(); i-- > 0;) {
      const std::string& layer = bytes[i];
      std::string label = "sha256:layer" + std::to_string(i);
      auto reader = TarReader::openMemory(layer.data(), layer.size(), label);
      LayerReopener reopen;
      if (reopenable)
        reopen = [&layer, label] {
          return TarReader::openMemory(layer.data(), layer.size(), label);
        };
      builder.addLayer(*reader, reopen);
    }
    builder.finish();
    EXPECT_EQ(test::fsckProblems(image()), "");
  }
  std::string refusal(const std::vector<TarBuilder>& oldestFirst) {
    try {
      stack(oldestFirst);
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::InvalidArgument) << error.what();
      return error.what();
    }
    ADD_FAILURE() << "the layers were accepted";
    return {};
  }
  std::string image() const { return (dir_.path() / "rootfs.ext4").string(); }
  test::TempDir dir_;
};

TEST_F(Ext4Layers, WhiteoutsHideOlderFilesAndTheirChildren) {
  TarBuilder base, upper;
  base.file("etc/motd", "old")
      .file("opt/app/old.txt", "old")
      .file("opt/app/sub/deep", "deep")
      .file("opt/app/keep", "k");
  upper.file("etc/motd", "new").file("opt/app/.wh.old.txt", "").file("opt/app/.wh.sub", "");
  stack({base, upper});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.read("/etc/motd"), "new");
  EXPECT_EQ(fs.names("/opt/app"), (std::vector<std::string>{"keep"}));
}

TEST_F(Ext4Layers, AnOpaqueDirectoryHidesOnlyOlderLayers) {
  TarBuilder base, upper;
  base.file("opt/app/old.txt", "old").file("opt/app/sub/x", "x");
  // The marker after a sibling of its own layer: that sibling stays.
  upper.file("opt/app/fresh.txt", "fresh")
      .file("opt/app/.wh..wh..opq", "")
      .file("opt/app/later.txt", "later");
  stack({base, upper});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.names("/opt/app"), (std::vector<std::string>{"fresh.txt", "later.txt"}));
}

TEST_F(Ext4Layers, AFileReplacedByADirectoryAndBack) {
  TarBuilder l1, l2, l3;
  l1.file("thing", "file in 1").file("other/a", "a");
  l2.dir("thing").file("thing/inside", "in 2").file("other", "file in 2");
  l3.file("thing", "file in 3");
  stack({l1, l2, l3});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.read("/thing"), "file in 3");
  EXPECT_EQ(fs.read("/other"), "file in 2")
      << "a newer file hides an older directory and what is in it";
}

TEST_F(Ext4Layers, NewerDirectoryMetadataWinsAndChildrenMerge) {
  TarBuilder base, upper;
  base.add({.type = TarEntry::Type::Dir, .path = "srv", .mode = 0700, .uid = 5}).file("srv/a", "a");
  upper.add({.type = TarEntry::Type::Dir, .path = "srv", .mode = 0750, .uid = 7})
      .file("srv/b", "b");
  stack({base, upper});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.names("/srv"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fs.stat("/srv")->mode, S_IFDIR | 0750u);
  EXPECT_EQ(fs.stat("/srv")->uid, 7u);
}

TEST_F(Ext4Layers, AnImpliedDirectoryTakesTheOlderLayersMetadata) {
  TarBuilder base, upper;
  base.add({.type = TarEntry::Type::Dir, .path = "etc", .mode = 0711, .uid = 3});
  upper.file("etc/motd", "hello");  // no etc/ entry, as umoci writes it
  stack({base, upper});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.stat("/etc")->mode, S_IFDIR | 0711u);
  EXPECT_EQ(fs.stat("/etc")->uid, 3u);
}

TEST_F(Ext4Layers, HardLinksAcrossLayersResolveAgainstTheFinalTree) {
  TarBuilder base, upper;
  base.file("usr/bin/perl5.36", "perl");
  upper.hardlink("usr/bin/perl", "usr/bin/perl5.36");
  stack({base, upper});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.stat("/usr/bin/perl")->ino, fs.stat("/usr/bin/perl5.36")->ino);
  EXPECT_EQ(fs.stat("/usr/bin/perl")->links, 2u);
  EXPECT_EQ(fs.read("/usr/bin/perl"), "perl");
}

TEST_F(Ext4Layers, AHardLinkKeepsTheBytesOfATargetANewerLayerReplaced) {
  TarBuilder base, upper;
  base.file("a", "old a").hardlink("b", "a");
  upper.file("a", "new a");
  stack({base, upper});
  Ext4Reader fs(image());
  EXPECT_EQ(fs.read("/a"), "new a");
  EXPECT_EQ(fs.read("/b"), "old a");
  EXPECT_EQ(fs.stat("/b")->links, 1u);
}

TEST_F(Ext4Layers, AHardLinkToAWhitedOutTargetKeepsItsBytes) {
  TarBuilder base, upper;
  base.file("lib/libfoo.so.1", "foo").hardlink("lib/libfoo.so", "lib/libfoo.so.1");
  upper.file("lib/.wh.libfoo.so.1", "");
  stack({base, upper});
  Ext4Reader fs(image());
  EXPECT_FALSE(fs.stat("/lib/libfoo.so.1"));
  EXPECT_EQ(fs.read("/lib/libfoo.so"), "foo");
}

TEST_F(Ext4Layers, RefusesADotDotComponent) {
  TarBuilder layer;
  layer.file("etc/../../escape", "x");
  std::string why = refusal({layer});
  EXPECT_NE(why.find("sha256:layer0"), std::string::npos) << why;
  EXPECT_NE(why.find("etc/../../escape"), std::string::npos) << why;
  EXPECT_NE(why.find("'..'"), std::string::npos) << why;
}

TEST_F(Ext4Layers, RefusesAParentThatIsASymlinkInTheSameLayer) {
  TarBuilder layer;
  layer.symlink("link", "/etc").file("link/passwd", "root::0:0");
  std::string why = refusal({layer});
  EXPECT_NE(why.find("link/passwd"), std::string::npos) << why;
  EXPECT_NE(why.find("symlink"), std::string::npos) << why;
}

TEST_F(Ext4Layers, RefusesAHardLinkToAPathNotInTheImage) {
  TarBuilder layer;
  layer.hardlink("shadow", "etc/shadow");
  std::string why = refusal({layer});
  EXPECT_NE(why.find("'shadow'"), std::string::npos) << why;
  EXPECT_NE(why.find("not in the image"), std::string::npos) << why;
}

TEST_F(Ext4Layers, RefusesAHardLinkOutOfTheImage) {
  TarBuilder layer;
  layer.file("a", "a").hardlink("b", "../../etc/shadow");
  EXPECT_NE(refusal({layer}).find("hard link target"), std::string::npos);
}

TEST_F(Ext4Layers, RefusesAHardLinkToADirectory) {
  TarBuilder layer;
  layer.dir("d").hardlink("e", "d");
  EXPECT_NE(refusal({layer}).find("directory"), std::string::npos);
}

TEST_F(Ext4Layers, RefusesAWhiteoutOfDotDot) {
  TarBuilder base, upper;
  base.file("etc/passwd", "x");
  upper.file("etc/.wh...", "");
  EXPECT_NE(refusal({base, upper}).find("whiteout"), std::string::npos);
}

TEST_F(Ext4Layers, RefusesNamesOverTheExt4Limit) {
  TarBuilder layer;
  layer.file(std::string(256, 'n'), "x");
  EXPECT_NE(refusal({layer}).find("255"), std::string::npos);
}

TEST_F(Ext4Layers, RefusesASymlinkTargetOverTheLimit) {
  TarBuilder layer;
  layer.symlink("s", std::string(5000, 't'));
  EXPECT_NE(refusal({layer}).find("4095"), std::string::npos);
}

TEST_F(Ext4Layers, RefusesAnXattrValueOverTheLimit) {
  TarBuilder layer;
  layer.add({.type = TarEntry::Type::File,
             .path = "f",
             .content = "x",
             .xattrs = {{"user.big", std::string(70000, 'v')}}});
  EXPECT_NE(refusal({layer}).find("user.big"), std::string::npos);
}

TEST_F(Ext4Layers, RefusesMoreEntriesThanTheCap) {
  TarBuilder layer;
  for (int i = 0; i < 20; ++i) layer.file("f" + std::to_string(i), "");
  std::string bytes = layer.bytes();
  Volume volume(image(), FormatOptions{.sizeBytes = 16ull << 20});
  ImageBuilder builder(volume, BuildLimits{.maxEntries = 10});
  auto reader = TarReader::openMemory(bytes.data(), bytes.size(), "sha256:bomb");
  try {
    builder.addLayer(*reader);
    FAIL() << "accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("more than 10 entries"), std::string::npos)
        << error.what();
  }
}

TEST_F(Ext4Layers, RefusesTruncatedAndCorruptStreams) {
  TarBuilder layer;
  layer.file("a", std::string(100000, 'a')).file("b", "b");
  for (auto compression :
       {test::Compression::None, test::Compression::Gzip, test::Compression::Zstd}) {
    std::string bytes = layer.bytes(compression);
    std::string truncated = bytes.substr(0, bytes.size() / 2);
    Volume volume(image(), FormatOptions{.sizeBytes = 16ull << 20});
    ImageBuilder builder(volume, {});
    try {
      auto reader = TarReader::openMemory(truncated.data(), truncated.size(), "sha256:cut");
      builder.addLayer(*reader);
      ADD_FAILURE() << "a truncated stream was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::IntegrityError) << error.what();
      EXPECT_NE(std::string(error.what()).find("sha256:cut"), std::string::npos) << error.what();
    }
  }
  std::string gz = layer.bytes(test::Compression::Gzip);
  for (std::size_t i = 40; i < gz.size() - 20; i += 7) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  Volume volume(image(), FormatOptions{.sizeBytes = 16ull << 20});
  ImageBuilder builder(volume, {});
  EXPECT_THROW(
      {
        auto reader = TarReader::openMemory(gz.data(), gz.size(), "sha256:garbled");
        builder.addLayer(*reader);
        builder.finish();
      },
      Error);
}

}  // namespace
}  // namespace banger::ext4
