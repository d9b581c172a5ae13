// `banger image …` against the real service: the pull's plain progress lines, list and
// show in both forms, delete, register, and Ctrl-C during a pull.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "banger/process.h"
#include "image_service_fixture.h"

namespace banger::test {
namespace {

class ImageCli : public ImageServiceTest {
 protected:
  ProcessResult banger(std::vector<std::string> args) {
    args.insert(args.begin(), BANGER_CLI_BIN);
    Command command(std::move(args));
    command.extraEnv = harness_.clientEnvironment();
    command.timeout = std::chrono::seconds(120);
    return SystemProcessRunner().run(command);
  }
};

TEST_F(ImageCli, PullListShowDelete) {
  TarBuilder layer;
  layer.file("etc/hostname", "cli\n");
  const std::string digest = pushImage({{layer.bytes(Compression::Gzip)}}, "v1");

  auto r = banger({"image", "pull", ref("banger/test:v1"), "--name", "cli"});
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  for (const char* line : {"resolve: ", "download: ", "write: ", "publish: ", "pulled cli ("})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in:\n" << r.out;
  EXPECT_NE(r.out.find(digest), std::string::npos) << r.out;

  r = banger({"image", "list"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.out.find("NAME"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cli "), std::string::npos) << r.out;
  r = banger({"image", "list", "--json"});
  auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 1u) << r.out;
  EXPECT_EQ(list[0]["name"], "cli");
  EXPECT_EQ(list[0]["source"], "oci");
  EXPECT_EQ(list[0]["digest"], digest);

  r = banger({"image", "show", "cli", "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto shown = nlohmann::json::parse(r.out);
  EXPECT_EQ(shown["reference"], ref("banger/test:v1"));
  EXPECT_TRUE(std::filesystem::exists(shown["rootfs_path"].get<std::string>()));
  r = banger({"image", "show", "cli"});
  EXPECT_NE(r.out.find("Digest:       " + digest), std::string::npos) << r.out;

  r = banger({"image", "pull", ref("banger/test:v1"), "--name", "cli"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;

  r = banger({"image", "delete", "cli"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  r = banger({"image", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 0u) << r.out;
  r = banger({"image", "show", "cli"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no image named cli"), std::string::npos) << r.err;
}

TEST_F(ImageCli, AFailedPullSaysWhyAndExitsOne) {
  auto r = banger({"image", "pull", ref("banger/nothing:here")});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("MANIFEST_UNKNOWN"), std::string::npos) << r.err;
}

TEST_F(ImageCli, RegisterPrintsTheImage) {
  const auto tree = work_.path() / "tree";
  std::filesystem::create_directories(tree / "root");
  const auto rootfs = work_.path() / "rootfs.ext4";
  ASSERT_EQ(
      SystemProcessRunner()
          .run(Command({"mkfs.ext4", "-q", "-F", "-d", tree.string(), rootfs.string(), "16M"}))
          .exitCode,
      0);
  auto r = banger({"image", "register", "--name", "mine", "--rootfs", rootfs.string(),
                   "--kernel-ref", "debian-cloud"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("/org/banger/Image/image/mine"), std::string::npos) << r.out;
  r = banger({"image", "show", "mine", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["kernel"], "debian-cloud");
}

TEST_F(ImageCli, CtrlCCancelsThePullAndNothingIsPublished) {
  StallingProxy proxy(registry_.host(), work_.path());
  TarBuilder layer;
  layer.file("noise", noise(24 << 20));
  pushImage({{layer.bytes(), "application/vnd.oci.image.layer.v1.tar"}}, "big");
  const auto log = work_.path() / "pull.log";
  const pid_t cli = spawnBackground(
      {BANGER_CLI_BIN, "image", "pull", proxy.host() + "/banger/test:big", "--name", "big"},
      harness_.clientEnvironment(), log);
  ASSERT_TRUE(waitFor([&] { return readFile(log).find("download: ") != std::string::npos; },
                      std::chrono::seconds(30)))
      << readFile(log);
  ::kill(cli, SIGINT);
  int status = 0;
  ASSERT_TRUE(
      waitFor([&] { return ::waitpid(cli, &status, WNOHANG) == cli; }, std::chrono::seconds(30)));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << status << readFile(log);
  EXPECT_NE(readFile(log).find("pull canceled; nothing was published"), std::string::npos)
      << readFile(log);
  EXPECT_EQ(storeFiles(), std::vector<std::string>{});
  EXPECT_EQ(imageNames(), std::vector<std::string>{});
}

// `banger kernel …` and `banger image catalog` without the network: a tiny static ELF
// stands in for an imported kernel (all built in, so no initrd).
TEST_F(ImageCli, KernelImportListShowRemoveAndTheCatalog) {
  const auto dir = work_.path() / "kernel";
  std::filesystem::create_directories(dir);
  Command compile({"sh", "-c",
                   "printf 'const char b[] = \"Linux version 6.6.1-cli (ci@example) #1\";"
                   "int main(){return b[0];}' > k.c && cc -O0 -static -no-pie -o vmlinux k.c"});
  compile.workingDirectory = dir.string();
  ASSERT_EQ(SystemProcessRunner().run(compile).exitCode, 0);

  auto r = banger({"kernel", "list"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.out.find("no kernels; `banger kernel pull debian-cloud`"), std::string::npos)
      << r.out;
  r = banger({"kernel", "import", "--name", "mine", "--vmlinux", (dir / "vmlinux").string()});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "imported kernel mine (Linux 6.6.1-cli)\n");
  r = banger({"kernel", "list"});
  EXPECT_NE(r.out.find("mine                 6.6.1-cli"), std::string::npos) << r.out;
  r = banger({"kernel", "show", "mine", "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto shown = nlohmann::json::parse(r.out);
  EXPECT_EQ(shown["version"], "6.6.1-cli");
  EXPECT_EQ(shown["source"], "imported");
  EXPECT_EQ(shown["initrd_path"], "");
  EXPECT_EQ(shown["pvh_entry"], false);
  EXPECT_EQ(shown["modules"], nlohmann::json::array());
  EXPECT_EQ(readFile(shown["vmlinux_path"].get<std::string>()), readFile(dir / "vmlinux"));
  r = banger({"kernel", "show", "mine"});
  EXPECT_NE(r.out.find("(no PVH note: 64-bit Linux boot)"), std::string::npos) << r.out;

  r = banger({"kernel", "import", "--name", "bad", "--vmlinux", (dir / "k.c").string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("k.c: not an ELF file"), std::string::npos) << r.err;
  r = banger({"kernel", "pull", "nope"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("banger image catalog"), std::string::npos) << r.err;

  r = banger({"kernel", "rm", "mine"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "deleted kernel mine\n");
  r = banger({"kernel", "show", "mine"});
  EXPECT_EQ(r.exitCode, 1);

  r = banger({"image", "catalog"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("debian-bookworm      image"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("debian-cloud         kernel"), std::string::npos) << r.out;
  r = banger({"image", "catalog", "--json"});
  const auto catalog = nlohmann::json::parse(r.out);
  ASSERT_EQ(catalog.size(), 2u);
  EXPECT_EQ(catalog[1]["name"], "debian-cloud");
  EXPECT_EQ(catalog[1]["kind"], "kernel");
}

}  // namespace
}  // namespace banger::test
