// The default image's pull when it cannot finish: a mirror that does not answer fails the
// job with mmdebstrap's own last words, and Cancel stops mmdebstrap and everything it
// started; either way no image, no staging directory and no process is left. (The image
// it builds is booted and examined in the guest suite.)
#include <gtest/gtest.h>

#include "banger/process.h"
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

}  // namespace
}  // namespace banger::test
