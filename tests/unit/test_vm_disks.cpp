// A VM's disks and SSH files: keys OpenSSH itself accepts, the overlay disk with the host
// key in its upper layer, the work disk from the seed at the VM's size, authorized_keys as
// StrictModes wants it, and file_sync's rules. Checked with libext2fs, e2fsck and ssh-keygen.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "banger/errors.h"
#include "banger/ext4/image_builder.h"
#include "banger/files.h"
#include "disks.h"
#include "ext4_reader.h"
#include "file_sync.h"
#include "harness.h"
#include "ssh_keys.h"
#include "tar_builder.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;
using test::Ext4Reader;

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

TEST(SshKeys, OpenSshReadsTheGeneratedKeyAndDerivesTheSamePublicHalf) {
  test::TempDir dir;
  const KeyPair pair = generateKeyPair("box.vm");
  EXPECT_EQ(pair.publicKey.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 0), 0u) << pair.publicKey;
  writeFileAtomically(dir.path() / "key", pair.privateKey, 0600);
  const test::Shell derived =
      test::shell("ssh-keygen -y -f '" + (dir.path() / "key").string() + "'");
  ASSERT_EQ(derived.status, 0) << derived.out;
  EXPECT_EQ(firstLine(derived.out), pair.publicKey);
  EXPECT_NE(generateKeyPair("x").publicKey, generateKeyPair("x").publicKey);
}

TEST(SshKeys, TheUserKeyIsMadeOnceWithPrivateModes) {
  test::TempDir dir;
  const fs::path key = dir.path() / "ssh" / "id_ed25519";
  const std::string first = ensureUserKey(key);
  EXPECT_EQ(ensureUserKey(key), first);
  EXPECT_EQ(fs::status(key).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(key.parent_path()).permissions(), fs::perms::owner_all);
  fs::remove(key.string() + ".pub");
  try {
    ensureUserKey(key);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ssh-keygen -y -f"), std::string::npos) << e.what();
  }
}

TEST(SshKeys, KnownHostsAndConfigNameEachMachineByAliasAndAddress) {
  test::TempDir dir;
  const SshFiles files{dir.path() / "id", dir.path() / "ssh" / "known_hosts",
                       dir.path() / "ssh_config"};
  writeSshFiles(files, {{"alpha", "172.16.0.5", "ssh-ed25519 AAAA1"}, {"beta", "", ""}});
  const std::string known = test::readFile(files.knownHosts);
  EXPECT_NE(known.find("\nalpha.vm ssh-ed25519 AAAA1\n"), std::string::npos) << known;
  EXPECT_EQ(known.find("beta"), std::string::npos);
  const std::string config = test::readFile(files.config);
  EXPECT_NE(config.find("Host alpha alpha.vm\n  HostName 172.16.0.5\n  HostKeyAlias alpha.vm\n"),
            std::string::npos)
      << config;
  EXPECT_NE(config.find("StrictHostKeyChecking yes"), std::string::npos);
  EXPECT_NE(config.find("UserKnownHostsFile " + files.knownHosts.string()), std::string::npos);
  // OpenSSH parses it and picks the right address and alias for a name.
  const test::Shell parsed = test::shell("ssh -G -F '" + files.config.string() + "' alpha.vm");
  ASSERT_EQ(parsed.status, 0) << parsed.out;
  EXPECT_NE(parsed.out.find("hostname 172.16.0.5"), std::string::npos) << parsed.out;
  EXPECT_NE(parsed.out.find("user root"), std::string::npos);
  EXPECT_NE(parsed.out.find("hostkeyalias alpha.vm"), std::string::npos);
  // The bare name gets the same pinned known_hosts, not ~/.ssh's.
  const test::Shell bare = test::shell("ssh -G -F '" + files.config.string() + "' alpha");
  EXPECT_NE(bare.out.find("userknownhostsfile " + files.knownHosts.string()), std::string::npos)
      << bare.out;
  EXPECT_NE(bare.out.find("stricthostkeychecking true"), std::string::npos) << bare.out;
}

class VmDisks : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string seed = test::TarBuilder()
                                 .dir(".", 0700)
                                 .file(".bashrc", "PS1=x\n", 0644)
                                 .dir(".ssh", 0755)
                                 .bytes();
    ext4::FormatOptions format;
    format.sizeBytes = 16ull << 20;
    ext4::Volume volume(seedPath().string(), format);
    ext4::ImageBuilder builder(volume, {});
    auto reader = ext4::TarReader::openMemory(seed.data(), seed.size(), "seed");
    builder.addLayer(*reader);
    builder.finish();
  }
  fs::path seedPath() const { return dir_.path() / "seed.ext4"; }
  void makeWorkDisk(const std::string& name, uint64_t bytes) const {
    createWorkDisk(path(name), bytes, seedPath(), "ssh-ed25519 AAAA user", {},
                   [](const std::string&) {});
  }
  fs::path path(const std::string& name) const { return dir_.path() / name; }
  test::TempDir dir_;
};

TEST_F(VmDisks, TheOverlayDiskHoldsTheHostKeyInItsUpperLayer) {
  const KeyPair key = generateKeyPair("box.vm");
  createOverlayDisk(path("overlay.ext4"), 8ull << 30, key);
  EXPECT_EQ(test::fsckProblems(path("overlay.ext4").string()), "");
  EXPECT_EQ(fs::file_size(path("overlay.ext4")), 8ull << 30);
  EXPECT_LT(allocatedBytes(path("overlay.ext4")), 300ull << 20);  // sparse
  Ext4Reader reader(path("overlay.ext4").string());
  EXPECT_EQ(reader.read("/upper/etc/ssh/ssh_host_ed25519_key"), key.privateKey);
  EXPECT_EQ(reader.stat("/upper/etc/ssh/ssh_host_ed25519_key")->mode, 0100600u);
  EXPECT_EQ(reader.stat("/upper/etc")->mode, 040755u);
  EXPECT_TRUE(reader.stat("/work"));
  EXPECT_FALSE(fs::exists(path("overlay.ext4.partial")));
}

TEST_F(VmDisks, TheWorkDiskIsTheSeedAtTheVmsSizeWithTheKeyAsStrictModesWantsIt) {
  makeWorkDisk("work.ext4", 2ull << 30);
  EXPECT_EQ(test::fsckProblems(path("work.ext4").string()), "");
  EXPECT_EQ(fs::file_size(path("work.ext4")), 2ull << 30);
  Ext4Reader reader(path("work.ext4").string());
  EXPECT_EQ(reader.read("/.bashrc"), "PS1=x\n");
  EXPECT_EQ(reader.stat("/")->mode, 040755u);
  EXPECT_EQ(reader.stat("/.ssh")->mode, 040700u);
  EXPECT_EQ(reader.read("/.ssh/authorized_keys"), "ssh-ed25519 AAAA user\n");
  EXPECT_EQ(reader.stat("/.ssh/authorized_keys")->mode, 0100600u);
  EXPECT_EQ(reader.stat("/.ssh/authorized_keys")->uid, 0u);
}

TEST_F(VmDisks, MakingThemTakesTheSameTimeForATinyAndAHugeDisk) {
  using Clock = std::chrono::steady_clock;
  const auto time = [&](uint64_t bytes, const std::string& name) {
    const auto start = Clock::now();
    makeWorkDisk(name, bytes);
    return Clock::now() - start;
  };
  time(1ull << 30, "warm.ext4");
  const auto small = time(1ull << 30, "small.ext4");
  const auto large = time(64ull << 30, "large.ext4");
  // Not a benchmark: a guard that nothing proportional to the size is written.
  EXPECT_LT(large, small * 20 + std::chrono::milliseconds(200));
  EXPECT_LT(allocatedBytes(path("large.ext4")), 256ull << 20);
}

// The ext4's block count, as its superblock says.
uint64_t blockCount(const fs::path& disk) {
  const test::Shell out = test::shell("dumpe2fs -h '" + disk.string() + "' 2>/dev/null");
  const auto at = out.out.find("Block count:");
  return at == std::string::npos ? 0 : std::stoull(out.out.substr(at + 12));
}

TEST_F(VmDisks, AGrownDiskKeepsItsFilesAndUsesItsWholeNewSize) {
  makeWorkDisk("work.ext4", 1ull << 30);
  growDisk(path("work.ext4"), 3ull << 30);
  EXPECT_EQ(fs::file_size(path("work.ext4")), 3ull << 30);
  EXPECT_EQ(blockCount(path("work.ext4")), (3ull << 30) / 4096);
  EXPECT_EQ(test::fsckProblems(path("work.ext4").string()), "");
  EXPECT_EQ(Ext4Reader(path("work.ext4").string()).read("/.ssh/authorized_keys"),
            "ssh-ed25519 AAAA user\n");
  EXPECT_FALSE(fs::exists(path("work.ext4.grow-undo")));
  EXPECT_FALSE(rollBackInterruptedGrowth(path("work.ext4"), 3ull << 30));  // nothing to undo
}

// A service killed while resize2fs ran leaves the undo file: the next start puts the disk
// back as the record (which still has the old size) says, whole.
TEST_F(VmDisks, AnInterruptedGrowthIsRolledBackToTheRecordedSize) {
  makeWorkDisk("work.ext4", 1ull << 30);
  fs::resize_file(path("work.ext4"), 2ull << 30);  // what growDisk does before resize2fs
  ASSERT_EQ(test::shell("resize2fs -z '" + path("work.ext4.grow-undo").string() + "' '" +
                        path("work.ext4").string() + "' 2>&1")
                .status,
            0);
  ASSERT_EQ(blockCount(path("work.ext4")), (2ull << 30) / 4096);
  EXPECT_TRUE(rollBackInterruptedGrowth(path("work.ext4"), 1ull << 30));
  EXPECT_EQ(fs::file_size(path("work.ext4")), 1ull << 30);
  EXPECT_EQ(blockCount(path("work.ext4")), (1ull << 30) / 4096);
  EXPECT_EQ(test::fsckProblems(path("work.ext4").string()), "");
  EXPECT_EQ(Ext4Reader(path("work.ext4").string()).read("/.ssh/authorized_keys"),
            "ssh-ed25519 AAAA user\n");
  EXPECT_FALSE(fs::exists(path("work.ext4.grow-undo")));
}

TEST_F(VmDisks, FileSyncCopiesFilesAndTreesWithTheirModesAndSkipsWhatIsMissing) {
  test::writeFile(path("gitconfig"), "[user]\n name = me\n");
  fs::create_directories(path("tool/sub"));
  test::writeFile(path("tool/run.sh"), "#!/bin/sh\n");
  fs::permissions(path("tool/run.sh"), fs::perms(0755));
  test::writeFile(path("tool/sub/secret"), "s");
  fs::permissions(path("tool/sub/secret"), fs::perms(0600));
  fs::create_symlink("run.sh", path("tool/link"));
  makeWorkDisk("work.ext4", 1ull << 30);
  std::vector<std::string> warnings;
  const std::vector<FileSyncEntry> entries = {
      {path("gitconfig").string(), "~/.gitconfig", std::nullopt},
      {path("gitconfig").string(), "/root/.config/git/config", 0644u},
      {path("missing").string(), "~/.missing", std::nullopt},
      {path("tool").string(), "~/tools/mine", std::nullopt},
      {path("gitconfig").string(), "~/.ssh/config", std::nullopt},
  };
  provisionWorkDisk(path("work.ext4"), "key", entries,
                    [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(test::fsckProblems(path("work.ext4").string()), "");
  Ext4Reader reader(path("work.ext4").string());
  EXPECT_EQ(reader.read("/.gitconfig"), "[user]\n name = me\n");
  EXPECT_EQ(reader.stat("/.gitconfig")->mode, 0100600u);
  EXPECT_EQ(reader.stat("/.config/git/config")->mode, 0100644u);
  EXPECT_EQ(reader.stat("/.config")->mode, 040755u);
  EXPECT_EQ(reader.stat("/tools/mine/run.sh")->mode, 0100755u);
  EXPECT_EQ(reader.stat("/tools/mine/sub/secret")->mode, 0100600u);
  EXPECT_EQ(reader.readlink("/tools/mine/link"), "run.sh");
  EXPECT_EQ(reader.stat("/tools/mine/sub/secret")->uid, 0u);
  EXPECT_EQ(reader.stat("/.ssh")->mode, 040700u);  // a parent that was there keeps its mode
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("file_sync entry 3"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("does not exist"), std::string::npos) << warnings[0];
}

TEST_F(VmDisks, AFileSyncEntryThatCannotBeWrittenFailsNamingTheEntry) {
  test::writeFile(path("big"), std::string(1 << 20, 'b'));
  makeWorkDisk("work.ext4", 1ull << 30);
  try {
    // ~/.bashrc is a file; nothing can go below it.
    provisionWorkDisk(path("work.ext4"), "key",
                      {{path("big").string(), "~/.bashrc/inside", std::nullopt}},
                      [](const std::string&) {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("file_sync entry 1 (" + path("big").string()),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("not a directory"), std::string::npos) << e.what();
  }
}

TEST(FileSyncPaths, GuestPathsMapIntoTheWorkDisk) {
  EXPECT_EQ(workDiskPath("~/.gitconfig"), "/.gitconfig");
  EXPECT_EQ(workDiskPath("/root/a/b"), "/a/b");
  EXPECT_THROW(workDiskPath("/etc/passwd"), Error);
}

}  // namespace
}  // namespace banger::vm
