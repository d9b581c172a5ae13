// The default image's pull when it cannot finish: a mirror that does not answer fails the
// job with mmdebstrap's own last words, and Cancel stops mmdebstrap and everything it
// started; either way no image, no staging directory and no process is left. (The image
// it builds is booted and examined in the guest suite.)
#include <gtest/gtest.h>

#include <pwd.h>

#include "banger/process.h"
#include "ext4_reader.h"
#include "image_service_fixture.h"

namespace banger::test {
namespace {

using namespace std::chrono_literals;

bool mmdebstrapRunning() {
  return SystemProcessRunner()
             .run(Command({"pgrep", "-f", "mmdebstrap .* bookworm - deb "}))
             .exitCode == 0;
}

class DebianImage : public ImageServiceTest {};

TEST_F(DebianImage, AMirrorThatDoesNotAnswerFailsWithMmdebstrapsWordsAndLeavesNothing) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
  writeConfig("debian_mirror = \"" + dead + "/debian\"\ndebian_security_mirror = \"" + dead +
              "/debian-security\"\n");
  // A kernel outside the catalog: nothing to pull first, mmdebstrap runs at once.
  const JobOutcome outcome =
      pull("debian-bookworm", {{"kernel", sdbus::Variant(std::string("mine"))}});
  EXPECT_EQ(outcome.state, "failed");
  EXPECT_EQ(outcome.errorName, "org.banger.Error.Failed");
  EXPECT_NE(outcome.errorMessage.find("mmdebstrap ("), std::string::npos) << outcome.errorMessage;
  EXPECT_NE(outcome.errorMessage.find("its last words:"), std::string::npos)
      << outcome.errorMessage;
  EXPECT_NE(outcome.errorMessage.find("127.0.0.1"), std::string::npos) << outcome.errorMessage;
  EXPECT_EQ(outcome.stages.front(), "mmdebstrap");
  EXPECT_TRUE(imageNames().empty());
  EXPECT_TRUE(storeFiles().empty()) << storeFiles().front();
  EXPECT_FALSE(mmdebstrapRunning());
}

TEST_F(DebianImage, CancelStopsMmdebstrapAndKeepsNothing) {
  auto [image, job] =
      startPull("debian-bookworm", {{"kernel", sdbus::Variant(std::string("mine"))}});
  auto jobProxy = sdbus::createProxy(*bus_, "org.banger.Image", job);
  ASSERT_TRUE(waitFor([&] { return mmdebstrapRunning(); }, 30s));
  jobProxy->callMethod("Cancel").onInterface("org.banger.Job1");
  const JobOutcome outcome = waitJob(job, 60s);
  EXPECT_EQ(outcome.state, "canceled") << outcome.errorMessage;
  EXPECT_EQ(outcome.errorName, "org.banger.Error.Canceled");
  EXPECT_TRUE(waitFor([] { return !mmdebstrapRunning(); }, 10s));
  EXPECT_TRUE(imageNames().empty());
  EXPECT_TRUE(storeFiles().empty()) << storeFiles().front();
}

// As a user builds it: the service and the CLI run as an ordinary user with subordinate
// ids, and mmdebstrap runs in unshare mode; the image's files keep their owners.
TEST(DebianImageAsAUser, AnOrdinaryUserBuildsItInUnshareMode) {
  if (geteuid() != 0) GTEST_SKIP() << "making a test user needs root";
  const char* user = "banger-mm";
  if (getpwnam(user) == nullptr) {
    ASSERT_EQ(std::system("useradd --shell /usr/sbin/nologin banger-mm"), 0);
  }
  if (std::system("grep -q '^banger-mm:' /etc/subuid && grep -q '^banger-mm:' /etc/subgid") != 0) {
    ASSERT_EQ(
        std::system("usermod --add-subuids 300000-365535 --add-subgids 300000-365535 banger-mm"),
        0);
  }
  const passwd* pw = getpwnam(user);
  ASSERT_NE(pw, nullptr);
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::filesystem::path home = dir.path() / "home";
  std::filesystem::create_directories(home);
  ASSERT_EQ(::chown(home.c_str(), pw->pw_uid, pw->pw_gid), 0);
  writeFile(home / "run.sh",
            "export BANGER_STATE_DIR=$HOME/state BANGER_CACHE_DIR=$HOME/cache "
            "BANGER_CONFIG_DIR=$HOME/config BANGER_RUNTIME_DIR=$HOME/run "
            "BANGER_GUEST_DIR=" BANGER_BUILD_DIR "/agent\n" BANGER_IMAGE_BIN
            " --idle-timeout 0 2> $HOME/image.log &\n"
            "sleep 1\n" BANGER_CLI_BIN " image pull debian-bookworm --kernel-ref mine\n");
  Command command({"setpriv", "--reuid", std::to_string(pw->pw_uid), "--regid",
                   std::to_string(pw->pw_gid), "--init-groups", "env", "HOME=" + home.string(),
                   "dbus-run-session", "--", "sh", (home / "run.sh").string()});
  command.timeout = std::chrono::minutes(10);
  const ProcessResult result = SystemProcessRunner().run(command);
  ASSERT_EQ(result.exitCode, 0) << result.out << result.err << readFile(home / "image.log");
  EXPECT_NE(result.out.find("mmdebstrap: bookworm in unshare mode"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("pulled debian-bookworm"), std::string::npos) << result.out;
  std::filesystem::path rootfs;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(home / "state/image/images"))
    if (entry.path().filename() == "rootfs.ext4") rootfs = entry.path();
  ASSERT_FALSE(rootfs.empty());
  Ext4Reader fs(rootfs.string());
  EXPECT_EQ(fs.stat("/etc/gshadow")->uid, 0u);
  EXPECT_EQ(fs.stat("/etc/gshadow")->gid, 42u);  // shadow, as in a root-mode build
  EXPECT_EQ(fs.stat("/usr/bin/passwd")->mode & 04000, 04000u) << "setuid kept";
  EXPECT_TRUE(fs.stat("/usr/lib/banger/banger-agent"));
}

}  // namespace
}  // namespace banger::test
