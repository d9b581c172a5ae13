// FileEditor: files written into an existing ext4 image (a VM's work disk) without a
// mount, read back with libext2fs and checked by e2fsck.
#include <gtest/gtest.h>

#include "banger/errors.h"
#include "banger/ext4/file_editor.h"
#include "banger/ext4/image_builder.h"
#include "ext4_reader.h"
#include "harness.h"
#include "tar_builder.h"

namespace banger::ext4 {
namespace {

using test::Ext4Reader;

class Ext4Editor : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string layer = test::TarBuilder()
                                  .dir("root", 0755)
                                  .file("root/.bashrc", "PS1=x\n", 0644)
                                  .dir("root/.ssh", 0700)
                                  .file("root/.ssh/authorized_keys", "old key\n", 0600)
                                  .symlink("root/link", "/etc/passwd")
                                  .bytes();
    FormatOptions format;
    format.sizeBytes = 32ull << 20;
    format.journal = true;
    Volume volume(image(), format);
    ImageBuilder builder(volume, {});
    auto reader = TarReader::openMemory(layer.data(), layer.size(), "seed");
    builder.addLayer(*reader);
    builder.finish();
  }
  std::string image() const { return (dir_.path() / "work.ext4").string(); }
  test::TempDir dir_;
};

TEST_F(Ext4Editor, ReplacesAFileWithNewContentModeAndOwner) {
  FileEditor editor(image());
  editor.file("/root/.ssh/authorized_keys", "ssh-ed25519 AAAA new\n", {0600, 0, 0});
  editor.file("/root/.bashrc", std::string(3 << 20, 'x'), {0640, 1000, 1000});
  editor.close();
  EXPECT_EQ(test::fsckProblems(image()), "");
  Ext4Reader reader(image());
  EXPECT_EQ(reader.read("/root/.ssh/authorized_keys"), "ssh-ed25519 AAAA new\n");
  EXPECT_EQ(reader.stat("/root/.ssh/authorized_keys")->mode, 0100600u);
  EXPECT_EQ(reader.read("/root/.bashrc"), std::string(3 << 20, 'x'));
  EXPECT_EQ(reader.stat("/root/.bashrc")->mode, 0100640u);
  EXPECT_EQ(reader.stat("/root/.bashrc")->uid, 1000u);
}

TEST_F(Ext4Editor, MakesDirectoriesOnTheWayAndGivesTheLastOneItsOwner) {
  FileEditor editor(image());
  editor.directory("/root/.config/tool", {0700, 0, 0});
  editor.file("/root/.config/tool/settings", "a=1\n", {0600, 0, 0});
  editor.directory("/root/.ssh", {0700, 0, 0});
  editor.close();
  EXPECT_EQ(test::fsckProblems(image()), "");
  Ext4Reader reader(image());
  EXPECT_EQ(reader.stat("/root/.config")->mode, 040755u);
  EXPECT_EQ(reader.stat("/root/.config/tool")->mode, 040700u);
  EXPECT_EQ(reader.read("/root/.config/tool/settings"), "a=1\n");
  EXPECT_EQ(reader.read("/root/.ssh/authorized_keys"), "old key\n");
}

TEST_F(Ext4Editor, ManyFilesGrowTheirDirectory) {
  FileEditor editor(image());
  editor.directory("/root/many", {0755, 0, 0});
  for (int i = 0; i < 400; ++i)
    editor.file("/root/many/file-with-a-long-name-" + std::to_string(i), std::to_string(i),
                {0644, 0, 0});
  editor.close();
  EXPECT_EQ(test::fsckProblems(image()), "");
  Ext4Reader reader(image());
  EXPECT_EQ(reader.names("/root/many").size(), 400u);
  EXPECT_EQ(reader.read("/root/many/file-with-a-long-name-399"), "399");
}

TEST_F(Ext4Editor, ASymlinkIsReplacedNotFollowed) {
  FileEditor editor(image());
  editor.file("/root/link", "mine\n", {0600, 0, 0});
  editor.symlink("/root/back", "/root/.bashrc", {0777, 0, 0});
  editor.close();
  EXPECT_EQ(test::fsckProblems(image()), "");
  Ext4Reader reader(image());
  EXPECT_EQ(reader.read("/root/link"), "mine\n");
  EXPECT_EQ(reader.readlink("/root/back"), "/root/.bashrc");
  EXPECT_FALSE(reader.stat("/etc/passwd"));
}

TEST_F(Ext4Editor, RefusesPathsThatAreNotPlainOrThroughANonDirectory) {
  FileEditor editor(image());
  EXPECT_THROW(editor.file("/root/../etc/x", "x", {}), Error);
  EXPECT_THROW(editor.file("root/x", "x", {}), Error);
  EXPECT_THROW(editor.file("/root/.bashrc/x", "x", {}), Error);
  EXPECT_THROW(editor.file("/root/missing/x", "x", {}), Error);
  EXPECT_THROW(editor.file("/root/.ssh", "x", {}), Error);
  EXPECT_THROW(editor.directory("/root/.bashrc/sub", {}), Error);
  editor.close();
  EXPECT_EQ(test::fsckProblems(image()), "");
}

TEST_F(Ext4Editor, AFullDiskIsAnErrorNamingTheImageAndLeavesItConsistent) {
  FileEditor editor(image());
  try {
    editor.file("/root/huge", std::string(64 << 20, 'x'), {0600, 0, 0});
    FAIL() << "64 MiB fitted into a 32 MiB image";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(image()), std::string::npos) << error.what();
  }
  editor.close();
  EXPECT_EQ(test::fsckProblems(image()), "");
}

TEST_F(Ext4Editor, SomethingThatIsNotExt4IsNamed) {
  test::writeFile(dir_.path() / "junk", std::string(1 << 20, 'j'));
  try {
    FileEditor editor((dir_.path() / "junk").string());
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(error.what()).find("junk"), std::string::npos);
  }
}

}  // namespace
}  // namespace banger::ext4
