// What happens around a pull and after it: Register and Delete, and a pull interrupted
// by Cancel, by its registry going away, or by the service being killed — each leaves no
// file and no record, and the next pull works.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstring>
#include <random>

#include "banger/process.h"
#include "ext4_reader.h"
#include "image_service_fixture.h"

namespace banger::test {
namespace {

class ImageLifecycle : public ImageServiceTest {
 protected:
  // An ext4 made by mkfs.ext4 -d, the way a user's own rootfs would be.
  std::filesystem::path makeRootfs(const std::string& name) {
    const auto tree = work_.path() / (name + "-tree");
    std::filesystem::create_directories(tree / "root/.ssh");
    std::filesystem::create_directories(tree / "etc");
    writeFile(tree / "root/.bashrc", "alias ll='ls -l'\n");
    writeFile(tree / "etc/hostname", "mine\n");
    std::filesystem::permissions(tree / "root", std::filesystem::perms(0700));
    const auto image = work_.path() / (name + ".ext4");
    SystemProcessRunner runner;
    auto result =
        runner.run(Command({"mkfs.ext4", "-q", "-F", "-d", tree.string(), image.string(), "32M"}));
    EXPECT_EQ(result.exitCode, 0) << result.err;
    return image;
  }
  sdbus::ObjectPath registerImage(const std::map<std::string, sdbus::Variant>& options) {
    sdbus::ObjectPath path;
    manager_->callMethod("Register")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(options)
        .storeResultsTo(path);
    return path;
  }
  std::vector<std::string> partialBlobs() const {
    std::vector<std::string> out;
    std::error_code error;
    for (auto it = std::filesystem::directory_iterator(cacheDir() / "blobs/sha256", error);
         !error && it != std::filesystem::directory_iterator(); ++it)
      if (it->path().filename().string().find(".partial-") != std::string::npos)
        out.push_back(it->path().filename().string());
    return out;
  }
};

TEST_F(ImageLifecycle, RegisterCopiesTheRootfsAndBuildsItsWorkSeed) {
  const auto source = makeRootfs("mine");
  const auto vmlinux = work_.path() / "vmlinux";
  writeFile(vmlinux, "not really a kernel");
  const auto path = registerImage({{"name", sdbus::Variant(std::string("mine"))},
                                   {"rootfs", sdbus::Variant(source.string())},
                                   {"kernel_path", sdbus::Variant(vmlinux.string())}});
  EXPECT_EQ(std::string(path), "/org/banger/Image/image/mine");
  auto props = imageProperties(path);
  EXPECT_EQ(props["Source"].get<std::string>(), "registered");
  EXPECT_EQ(props["Reference"].get<std::string>(), source.string());
  EXPECT_EQ(props["Kernel"].get<std::string>(), vmlinux.string());
  EXPECT_EQ(props["Digest"].get<std::string>(), "");
  const std::string rootfs = props["RootfsPath"].get<std::string>();
  EXPECT_NE(rootfs, source.string());
  EXPECT_TRUE(readFile(rootfs) == readFile(source)) << "a copy, byte for byte";
  struct stat st {};
  ASSERT_EQ(::stat(rootfs.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  std::filesystem::remove(source);  // the user's file is theirs again
  Ext4Reader seed(props["WorkSeedPath"].get<std::string>());
  EXPECT_EQ(seed.read("/.bashrc"), "alias ll='ls -l'\n");
  EXPECT_EQ(seed.stat("/")->mode, 040755u);
  EXPECT_EQ(seed.stat("/.ssh")->mode, 040700u);
  EXPECT_EQ(fsckProblems(props["WorkSeedPath"].get<std::string>()), "");
}

TEST_F(ImageLifecycle, RegisterRefusesWhatItCannotUseAndLeavesNothing) {
  const auto source = makeRootfs("ok");
  const auto text = work_.path() / "notes.txt";
  writeFile(text, std::string(100000, 'x'));
  auto options = [&](const std::string& name, const std::string& rootfs) {
    return std::map<std::string, sdbus::Variant>{{"name", sdbus::Variant(name)},
                                                 {"rootfs", sdbus::Variant(rootfs)},
                                                 {"kernel", sdbus::Variant(std::string("k"))}};
  };
  auto e = callError([&] { registerImage(options("t", text.string())); });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("not an ext4"), std::string::npos) << e.getMessage();
  e = callError([&] { registerImage(options("t", "relative/rootfs.ext4")); });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("absolute"), std::string::npos) << e.getMessage();
  e = callError([&] { registerImage(options("t", (work_.path() / "missing").string())); });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  e = callError([&] {
    registerImage(
        {{"name", sdbus::Variant(std::string("t"))}, {"rootfs", sdbus::Variant(source.string())}});
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("kernel"), std::string::npos) << e.getMessage();
  EXPECT_EQ(storeFiles(), std::vector<std::string>{});
  EXPECT_EQ(imageNames(), std::vector<std::string>{});

  registerImage(options("taken", source.string()));
  e = callError([&] { registerImage(options("taken", source.string())); });
  EXPECT_EQ(e.getName(), "org.banger.Error.AlreadyExists");
}

TEST_F(ImageLifecycle, DeleteRemovesTheObjectTheRecordAndTheFiles) {
  const auto source = makeRootfs("gone");
  const auto path = registerImage({{"name", sdbus::Variant(std::string("gone"))},
                                   {"rootfs", sdbus::Variant(source.string())},
                                   {"kernel", sdbus::Variant(std::string("k"))}});
  EXPECT_EQ(storeFiles().size(), 2u);
  auto image = sdbus::createProxy(*bus_, "org.banger.Image", path);
  image->callMethod("Delete").onInterface("org.banger.Image1.Image");
  EXPECT_TRUE(waitFor([&] { return imageNames().empty(); }, std::chrono::seconds(5)));
  EXPECT_EQ(callError([&] { findImage("gone"); }).getName(), "org.banger.Error.NotFound");
  EXPECT_EQ(storeFiles(), std::vector<std::string>{});
}

TEST_F(ImageLifecycle, CancelMidDownloadLeavesNothing) {
  StallingProxy proxy(registry_.host(), work_.path());
  const auto job = startHeldPull(proxy, "big");
  auto jobProxy = sdbus::createProxy(*bus_, "org.banger.Image", job);
  jobProxy->callMethod("Cancel").onInterface("org.banger.Job1");
  const JobOutcome outcome = waitJob(job, std::chrono::seconds(30));
  EXPECT_EQ(outcome.state, "canceled");
  EXPECT_EQ(outcome.errorName, "org.banger.Error.Canceled") << outcome.errorMessage;
  EXPECT_EQ(storeFiles(), std::vector<std::string>{});
  EXPECT_EQ(partialBlobs(), std::vector<std::string>{});
  EXPECT_EQ(imageNames(), std::vector<std::string>{});
}

TEST_F(ImageLifecycle, ARegistryGoneMidDownloadIsANamedErrorAndNothingIsPublished) {
  StallingProxy proxy(registry_.host(), work_.path());
  const auto job = startHeldPull(proxy, "big");
  proxy.stop();
  const JobOutcome outcome = waitJob(job, std::chrono::seconds(60));
  EXPECT_EQ(outcome.state, "failed");
  EXPECT_TRUE(outcome.errorName == "org.banger.Error.Unavailable" ||
              outcome.errorName == "org.banger.Error.Failed")
      << outcome.errorName;
  EXPECT_NE(outcome.errorMessage.find(proxy.host()), std::string::npos) << outcome.errorMessage;
  EXPECT_EQ(storeFiles(), std::vector<std::string>{});
  EXPECT_EQ(partialBlobs(), std::vector<std::string>{});
}

TEST_F(ImageLifecycle, KilledMidPullTheServiceRestartsCleanAndPullsAgain) {
  StallingProxy proxy(registry_.host(), work_.path());
  startHeldPull(proxy, "big");
  const pid_t service = nameOwnerPid(*bus_, "org.banger.Image");
  ASSERT_GT(service, 0);
  ::kill(service, SIGKILL);
  ASSERT_TRUE(
      waitFor([&] { return !nameHasOwner(*bus_, "org.banger.Image"); }, std::chrono::seconds(10)));
  EXPECT_FALSE(partialBlobs().empty()) << "the download was cut off half-way";
  proxy.release();

  const JobOutcome outcome = pull(proxy.host() + "/banger/test:big",  // activates it again
                                  {{"name", sdbus::Variant(std::string("big"))}});
  ASSERT_EQ(outcome.state, "succeeded") << outcome.errorMessage;
  EXPECT_EQ(imageNames(), (std::vector<std::string>{"big"}));
  EXPECT_EQ(partialBlobs(), std::vector<std::string>{});
  EXPECT_EQ(storeFiles().size(), 2u);
  EXPECT_TRUE(std::filesystem::is_empty(storeDir() / "staging"));
}

// Every crash point leaves one of these; the next start removes them all and keeps the
// published images.
TEST_F(ImageLifecycle, LeftoversOfACrashAreSweptAtStart) {
  const auto source = makeRootfs("kept");
  registerImage({{"name", sdbus::Variant(std::string("kept"))},
                 {"rootfs", sdbus::Variant(source.string())},
                 {"kernel", sdbus::Variant(std::string("k"))}});
  const pid_t service = nameOwnerPid(*bus_, "org.banger.Image");
  ::kill(service, SIGKILL);
  ASSERT_TRUE(
      waitFor([&] { return !nameHasOwner(*bus_, "org.banger.Image"); }, std::chrono::seconds(10)));
  writeFile(storeDir() / "staging/0123abcd/rootfs.ext4", "half written");  // killed mid-write
  writeFile(storeDir() / "images/4567cdef/rootfs.ext4", "renamed, never recorded");
  std::filesystem::create_directories(cacheDir() / "blobs/sha256");
  writeFile(cacheDir() / "blobs/sha256/abc.partial-1-0", "half a blob");

  EXPECT_EQ(imageNames(), (std::vector<std::string>{"kept"}));  // activates it again
  EXPECT_EQ(storeFiles().size(), 2u) << "only kept's rootfs and work seed";
  EXPECT_EQ(partialBlobs(), std::vector<std::string>{});
}

}  // namespace
}  // namespace banger::test
