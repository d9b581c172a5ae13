// The login banner's kernel line: banger-init writes it only for an image whose sshd PAM
// configuration shows /run/motd.dynamic and that has nothing to write it (banger's default
// image, which leaves update-motd.d out); the line is `uname -snrvm`'s.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <filesystem>
#include <fstream>

#include "banger/process.h"
#include "harness.h"
#include "login_banner.h"

namespace banger::guest {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDebianSshdPam =
    "@include common-session\n"
    "session    optional     pam_motd.so  motd=/run/motd.dynamic\n"
    "session    optional     pam_motd.so noupdate\n";

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(LoginBanner, WrittenAtBootOnlyWhereThePamShowsItAndNothingElseWritesIt) {
  test::TempDir root;
  const std::string dir = root.path().string();
  EXPECT_FALSE(bootWritesDynamicMotd(dir)) << "no PAM configuration for sshd at all";

  write(root.path() / "etc/pam.d/sshd", "@include common-session\n");
  EXPECT_FALSE(bootWritesDynamicMotd(dir)) << "a PAM that shows no dynamic motd";

  write(root.path() / "etc/pam.d/sshd", kDebianSshdPam);
  EXPECT_TRUE(bootWritesDynamicMotd(dir)) << "Debian's PAM without update-motd.d";

  fs::create_directories(root.path() / "etc/update-motd.d");
  EXPECT_FALSE(bootWritesDynamicMotd(dir)) << "pam_motd writes it from update-motd.d";
  fs::remove(root.path() / "etc/update-motd.d");
  fs::create_symlink("/nowhere", root.path() / "etc/update-motd.d");
  EXPECT_FALSE(bootWritesDynamicMotd(dir)) << "an update-motd.d of any kind is the image's own";
}

TEST(LoginBanner, TheLineIsWhatUnameSnrvmPrints) {
  struct utsname name {};
  ASSERT_EQ(::uname(&name), 0);
  EXPECT_EQ(unameLine(name), SystemProcessRunner().run(Command({"uname", "-snrvm"})).out);
}

}  // namespace
}  // namespace banger::guest
