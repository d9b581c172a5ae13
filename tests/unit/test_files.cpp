// Removing a tree never reaches through a mount inside it: what an interrupted chroot
// tool left mounted (a tmpfs here, /proc or /dev for real) survives with its content.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include "banger/files.h"
#include "harness.h"

namespace banger {
namespace {

namespace fs = std::filesystem;

TEST(RemoveTree, RemovesFilesLinksAndDirectoriesWithoutFollowingLinks) {
  test::TempDir dir;
  const fs::path outside = dir.path() / "outside";
  fs::create_directories(outside);
  test::writeFile(outside / "keep", "x");
  const fs::path tree = dir.path() / "tree";
  fs::create_directories(tree / "a/b");
  test::writeFile(tree / "a/b/file", "y");
  fs::create_symlink(outside, tree / "a/link-to-outside");
  EXPECT_TRUE(removeTreeOnThisFilesystem(tree).empty());
  EXPECT_FALSE(fs::exists(tree));
  EXPECT_EQ(test::readFile(outside / "keep"), "x");
}

TEST(RemoveTree, LeavesAMountPointAndWhatIsInItAlone) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  test::TempDir dir;
  const fs::path tree = dir.path() / "tree";
  fs::create_directories(tree / "chroot/proc");
  fs::create_directories(tree / "other");
  test::writeFile(tree / "other/file", "gone");
  ASSERT_EQ(::mount("none", (tree / "chroot/proc").c_str(), "tmpfs", 0, "size=1m"), 0);
  test::writeFile(tree / "chroot/proc/precious", "kept");
  const auto left = removeTreeOnThisFilesystem(tree);
  EXPECT_EQ(left, std::vector<fs::path>{tree / "chroot/proc"});
  EXPECT_EQ(test::readFile(tree / "chroot/proc/precious"), "kept");
  EXPECT_FALSE(fs::exists(tree / "other"));
  ::umount((tree / "chroot/proc").c_str());
  EXPECT_TRUE(removeTreeOnThisFilesystem(tree).empty());
  EXPECT_FALSE(fs::exists(tree));
}

}  // namespace
}  // namespace banger
