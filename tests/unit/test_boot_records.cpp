// The boot's records as banger-init writes them: what `who -b`, `who -r` and `last` show
// from them, which target's runlevel is recorded, and for which images banger-init writes
// them at all.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "banger/process.h"
#include "boot_records.h"
#include "guest_layout.h"
#include "harness.h"

namespace banger::guest {
namespace {

namespace fs = std::filesystem;
using test::writeFile;

// 2026-12-04 16:40:05 UTC
constexpr timeval kBoot{1796402405, 250000};

std::string run(std::vector<std::string> argv) {
  Command command(std::move(argv));
  command.extraEnv = {{"TZ", "UTC"}, {"LC_ALL", "C"}};
  const ProcessResult result = SystemProcessRunner().run(command);
  EXPECT_TRUE(result.ok()) << result.err;
  return result.out;
}

TEST(BootRecords, WhoAndLastShowTheBootAndTheRunlevel) {
  test::TempDir dir;
  const std::string utmp = (dir.path() / "utmp").string(), wtmp = (dir.path() / "wtmp").string();
  writeFile(wtmp, "");
  writeBootRecords(utmp, wtmp, "6.1.0-test-cloud-amd64", '5', kBoot);

  EXPECT_EQ(fs::status(utmp).permissions(), fs::perms(0664)) << "made as tmpfiles.d has it";
  EXPECT_NE(run({"who", "-b", utmp}).find("system boot  Dec  4 16:40"), std::string::npos)
      << run({"who", "-b", utmp});
  EXPECT_NE(run({"who", "-r", utmp}).find("run-level 5  Dec  4 16:40"), std::string::npos)
      << run({"who", "-r", utmp});
  const std::string last = run({"last", "-x", "-F", "-f", wtmp});
  EXPECT_NE(last.find("reboot   system boot  6.1.0-test-cloud Fri Dec  4 16:40:05 2026"),
            std::string::npos)
      << last;
  EXPECT_NE(last.find("runlevel (to lvl 5)"), std::string::npos) << last;
}

TEST(BootRecords, WithoutATargetRunlevelOnlyTheBootIsRecordedAndWtmpIsLeftToTheImage) {
  test::TempDir dir;
  const std::string utmp = (dir.path() / "utmp").string(), wtmp = (dir.path() / "wtmp").string();
  writeBootRecords(utmp, wtmp, "6.1.0", std::nullopt, kBoot);
  EXPECT_FALSE(fs::exists(wtmp)) << "an image without wtmp keeps none";
  EXPECT_NE(run({"who", "-b", utmp}).find("system boot"), std::string::npos);
  EXPECT_EQ(run({"who", "-r", utmp}), "");
}

TEST(BootRecords, AFileThatCannotBeWrittenIsNamed) {
  test::TempDir dir;
  try {
    writeBootRecords((dir.path() / "no/such/dir/utmp").string(), "", "6.1.0", '3', kBoot);
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("no/such/dir/utmp: No such file or directory"),
              std::string::npos)
        << error.what();
  }
}

void link(const fs::path& at, const std::string& target) {
  fs::create_directories(at.parent_path());
  fs::create_symlink(target, at);
}

TEST(BootRecords, TheRunlevelIsTheDefaultTargetsOrTheCommandLinesAsSystemdMapsIt) {
  test::TempDir root;
  const std::string dir = root.path().string();
  const fs::path vendor = root.path() / "usr/lib/systemd/system";
  for (const char* unit :
       {"graphical.target", "multi-user.target", "rescue.target", "emergency.target"})
    writeFile(vendor / unit, "[Unit]\n");
  link(root.path() / "lib", "usr/lib");  // merged /usr, as Debian has it
  link(vendor / "runlevel3.target", "multi-user.target");
  link(vendor / "default.target", "graphical.target");

  EXPECT_EQ(bootRunlevel(dir, "console=ttyS0"), '5') << "Debian's default";
  EXPECT_EQ(bootRunlevel(dir, "systemd.unit=rescue.target"), '1');
  EXPECT_EQ(bootRunlevel(dir, "systemd.unit=rescue.target systemd.unit=runlevel3.target"), '3')
      << "the last word wins, and an alias is followed";
  EXPECT_EQ(bootRunlevel(dir, "systemd.unit=emergency.target"), std::nullopt);

  link(root.path() / "etc/systemd/system/default.target", "/lib/systemd/system/multi-user.target");
  EXPECT_EQ(bootRunlevel(dir, ""), '3') << "the administrator's default wins";
  EXPECT_EQ(bootRunlevel((root.path() / "nothing").string(), ""), std::nullopt);
}

// Debian 12's own line, among its neighbours in systemd.conf.
constexpr const char* kDebianSystemdConf =
    "d /run/user 0755 root root -\n"
    "f+! /run/utmp 0664 root utmp -\n"
    "d /run/systemd/ask-password 0755 root root -\n";

TEST(BootRecords, TmpfilesKeepsUtmpAndEverythingElseOfTheImagesSystemdConf) {
  const std::string kept = tmpfilesKeepingUtmp(kDebianSystemdConf);
  EXPECT_EQ(kept.substr(kept.find("\nd ") + 1),
            "d /run/user 0755 root root -\n"
            "f! /run/utmp 0664 root utmp -\n"
            "d /run/systemd/ask-password 0755 root root -\n");
  EXPECT_EQ(kept.rfind("# Written at boot by banger-init", 0), 0u) << kept;
  EXPECT_EQ(tmpfilesKeepingUtmp("f /run/utmp 0664 root utmp -\nf+ /run/other 0644\n"), "")
      << "nothing empties utmp: nothing to write";
  EXPECT_EQ(tmpfilesKeepingUtmp(""), "");
}

TEST(BootRecords, WrittenOnlyForAnImageWhoseUtmpUnitBangerTookOver) {
  test::TempDir root;
  const std::string dir = root.path().string();
  EXPECT_FALSE(bootWritesRecords(dir)) << "the image's own systemd writes them";
  writeFile(root.path() / "etc/systemd/system/systemd-update-utmp.service.d" / kDoneAtBootDropIn,
            "[Service]\nExecStart=\n");
  EXPECT_TRUE(bootWritesRecords(dir));
}

}  // namespace
}  // namespace banger::guest
