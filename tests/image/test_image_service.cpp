// org.banger.Image through the bus: pulls as jobs, the published objects and files, the
// injection layer, the work seed, names, force, and what is left after a failure.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "ext4_reader.h"
#include "image_service_fixture.h"
#include "oci/sha256.h"

namespace banger::test {
namespace {

using image::oci::sha256Digest;

std::string capability() {  // cap_net_raw=ep, as Debian's iputils-ping carries it
  return std::string(
      "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
}

class ImageService : public ImageServiceTest {};

TEST_F(ImageService, PullPublishesAReadOnlyImageWithBangersLayerAndAWorkSeed) {
  TarBuilder base, upper;
  base.file("etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n")
      .file("etc/ssh/ssh_host_ed25519_key", "PRIVATE", 0600)
      .file("etc/ssh/ssh_host_ed25519_key.pub", "PUBLIC")
      .dir("root", 0700)
      .file("root/.profile", "export PS1=x\n")
      .dir("root/.ssh", 0755)
      .add(TarEntry{.path = "usr/bin/ping",
                    .content = "ELF",
                    .mode = 0755,
                    .xattrs = {{"security.capability", capability()}}});
  upper.file("etc/motd", "hello from the upper layer\n");
  const std::string digest =
      pushImage({{base.bytes(Compression::Gzip)},
                 {upper.bytes(Compression::Zstd), "application/vnd.oci.image.layer.v1.tar+zstd"}},
                "v1");

  const auto [path, job] =
      startPull(ref("banger/test:v1"), {{"name", sdbus::Variant(std::string("web"))},
                                        {"kernel", sdbus::Variant(std::string("debian-cloud"))}});
  EXPECT_EQ(std::string(path), "/org/banger/Image/image/web");
  const JobOutcome outcome = waitJob(job);
  ASSERT_EQ(outcome.state, "succeeded") << outcome.errorName << ": " << outcome.errorMessage;
  for (const char* stage : {"resolve", "download", "write", "publish"})
    EXPECT_NE(std::find(outcome.stages.begin(), outcome.stages.end(), stage), outcome.stages.end())
        << stage;

  EXPECT_EQ(std::string(findImage("web")), std::string(path));
  auto props = imageProperties(path);
  EXPECT_EQ(props["Name"].get<std::string>(), "web");
  EXPECT_EQ(props["Source"].get<std::string>(), "oci");
  EXPECT_EQ(props["Reference"].get<std::string>(), ref("banger/test:v1"));
  EXPECT_EQ(props["Digest"].get<std::string>(), digest);
  EXPECT_EQ(props["Kernel"].get<std::string>(), "debian-cloud");
  const std::string rootfs = props["RootfsPath"].get<std::string>();
  const std::string seed = props["WorkSeedPath"].get<std::string>();
  struct stat st {};
  ASSERT_EQ(::stat(rootfs.c_str(), &st), 0) << rootfs;
  EXPECT_EQ(st.st_mode & 07777, 0444u) << "the published rootfs is read-only";
  EXPECT_EQ(props["RootfsBytes"].get<uint64_t>(), static_cast<uint64_t>(st.st_size));
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const uint64_t created = props["CreatedAt"].get<uint64_t>();
  EXPECT_GT(created, static_cast<uint64_t>(now) - 600'000'000ull);
  EXPECT_LE(created, static_cast<uint64_t>(now));

  EXPECT_EQ(fsckProblems(rootfs), "");
  Ext4Reader fs(rootfs);
  const std::string dropIn = fs.read("/etc/ssh/sshd_config.d/99-banger.conf");
  for (const char* line : {"PermitRootLogin prohibit-password\n", "PubkeyAuthentication yes\n",
                           "PasswordAuthentication no\n", "KbdInteractiveAuthentication no\n",
                           "AuthorizedKeysFile /root/.ssh/authorized_keys\n"})
    EXPECT_NE(dropIn.find(line), std::string::npos) << line;
  EXPECT_EQ(dropIn.find("StrictModes"), std::string::npos) << "StrictModes stays on";
  EXPECT_EQ(fs.names("/etc/ssh"), (std::vector<std::string>{"sshd_config", "sshd_config.d"}))
      << "the image's host keys are left out";
  // banger's guest side: the agent and init as built here, their units enabled.
  EXPECT_EQ(fs.read("/usr/lib/banger/banger-init"),
            readFile(BANGER_BUILD_DIR "/agent/banger-init"));
  EXPECT_EQ(fs.read("/usr/lib/banger/banger-agent"),
            readFile(BANGER_BUILD_DIR "/agent/banger-agent"));
  EXPECT_EQ(fs.stat("/usr/lib/banger/banger-agent")->mode, 0100755u);
  EXPECT_EQ(fs.stat("/usr/lib/banger/banger-first-boot")->mode, 0100755u);
  for (const char* unit :
       {"banger-agent.service", "banger-hostkeys.service", "banger-first-boot.service"}) {
    EXPECT_EQ(fs.read(std::string("/etc/systemd/system/") + unit),
              readFile(std::string(BANGER_SOURCE_DIR "/agent/files/") + unit));
    EXPECT_EQ(fs.readlink(std::string("/etc/systemd/system/multi-user.target.wants/") + unit),
              std::string("/etc/systemd/system/") + unit);
  }
  EXPECT_EQ(fs.read("/etc/systemd/system/ssh.service.d/10-banger-early.conf"),
            readFile(BANGER_SOURCE_DIR "/agent/files/ssh-early.conf"))
      << "sshd starts without waiting for all of sysinit";
  for (const char* unit : {"systemd-update-utmp.service", "systemd-user-sessions.service"})
    EXPECT_EQ(fs.read(std::string("/etc/systemd/system/") + unit + ".d/10-banger-init.conf"),
              readFile(BANGER_SOURCE_DIR "/agent/files/done-by-banger-init.conf"))
        << unit << " starts without a program: banger-init did its work";
  EXPECT_EQ(fs.readlink("/etc/systemd/system/systemd-update-utmp-runlevel.service"), "/dev/null");
  EXPECT_EQ(fs.readlink("/etc/tmpfiles.d/systemd-nologin.conf"), "/dev/null");
  for (const char* getty : {"serial-getty@.service", "console-getty.service"})
    EXPECT_EQ(fs.readlink(std::string("/etc/systemd/system/") + getty), "/dev/null")
        << "no login prompt on a console with no input";
  EXPECT_EQ(fs.read("/etc/motd"), "hello from the upper layer\n");
  EXPECT_EQ(fs.xattrs("/usr/bin/ping").at("security.capability"), capability());

  EXPECT_EQ(fsckProblems(seed), "");
  Ext4Reader work(seed);
  EXPECT_EQ(work.read("/.profile"), "export PS1=x\n");
  EXPECT_EQ(work.stat("/")->mode, 040755u);
  EXPECT_EQ(work.stat("/")->uid, 0u);
  EXPECT_EQ(work.stat("/.ssh")->mode, 040700u);
  EXPECT_EQ(imageNames(), (std::vector<std::string>{"web"}));
}

TEST_F(ImageService, ByDigestTheRootfsIsByteIdenticalAndTheSecondPullDownloadsNothing) {
  TarBuilder layer;
  layer.file("etc/os-release", "ID=test\n").dir("var/empty").symlink("bin", "usr/bin");
  const std::string blob = layer.bytes(Compression::Gzip);
  const std::string digest = pushImage({{blob}}, "v1");
  const std::string byDigest = ref("banger/test@" + digest);

  auto first = pull(byDigest);  // no name: test-<12 hex of the digest>
  ASSERT_EQ(first.state, "succeeded") << first.errorMessage;
  const std::string defaultName = "test-" + digest.substr(7, 12);
  EXPECT_EQ(imageNames(), (std::vector<std::string>{defaultName}));

  std::filesystem::remove(registry_.blobFile(sha256Digest(blob)));  // only the cache has it now
  auto second = pull(byDigest, {{"name", sdbus::Variant(std::string("again"))}});
  ASSERT_EQ(second.state, "succeeded") << second.errorMessage;

  const std::string a = imageProperties(findImage(defaultName))["RootfsPath"].get<std::string>();
  const std::string b = imageProperties(findImage("again"))["RootfsPath"].get<std::string>();
  EXPECT_NE(a, b);
  EXPECT_TRUE(readFile(a) == readFile(b)) << "one digest, one rootfs, byte for byte";
}

TEST_F(ImageService, ATakenNameIsAlreadyExistsUnlessForced) {
  TarBuilder layer;
  layer.file("version", "1");
  pushImage({{layer.bytes(Compression::Gzip)}}, "v1");
  ASSERT_EQ(pull(ref("banger/test:v1"), {{"name", sdbus::Variant(std::string("app"))}}).state,
            "succeeded");
  const auto before = imageProperties(findImage("app"));

  auto e = callError([&] {
    startPull(ref("banger/test:v1"), {{"name", sdbus::Variant(std::string("app"))}});
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.AlreadyExists");
  EXPECT_NE(e.getMessage().find("app"), std::string::npos) << e.getMessage();

  auto forced = pull(ref("banger/test:v1"), {{"name", sdbus::Variant(std::string("app"))},
                                             {"force", sdbus::Variant(true)}});
  ASSERT_EQ(forced.state, "succeeded") << forced.errorMessage;
  const auto after = imageProperties(findImage("app"));
  EXPECT_NE(after.at("RootfsPath").get<std::string>(), before.at("RootfsPath").get<std::string>());
  EXPECT_FALSE(std::filesystem::exists(before.at("RootfsPath").get<std::string>()))
      << "the replaced image's files are gone";
  EXPECT_EQ(storeFiles().size(), 2u) << "one rootfs and one work seed";
}

TEST_F(ImageService, BadArgumentsAreRefusedByTheCallItself) {
  // The catalog image checks its options before mmdebstrap is started.
  auto e = callError([&] {
    startPull("debian-bookworm", {{"name", sdbus::Variant(std::string("Bad/Name"))}});
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("image name 'Bad/Name'"), std::string::npos) << e.getMessage();
  e = callError([&] {
    startPull("debian-bookworm", {{"kernel", sdbus::Variant(std::string("../k"))}});
  });
  EXPECT_NE(e.getMessage().find("kernel name '../k'"), std::string::npos) << e.getMessage();
  e = callError([&] { startPull("UPPER/Case"); });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  e = callError([&] {
    startPull(ref("banger/test:v1"), {{"name", sdbus::Variant(std::string("../x"))}});
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("'../x'"), std::string::npos) << e.getMessage();
  e = callError([&] { findImage("nothing"); });
  EXPECT_EQ(e.getName(), "org.banger.Error.NotFound");
}

struct Hostile {
  std::string name;
  std::string layer;  // gzip bytes
  std::string entry;  // must be named in the message
  std::string errorName;
};

std::string gz(const TarBuilder& tar) { return tar.bytes(Compression::Gzip); }

// One refusal per hostile shape (issue 9's list); after each the store holds nothing new
// and the service keeps serving.
TEST_F(ImageService, HostileLayersAreRefusedNamingLayerAndEntryAndLeaveNothing) {
  std::vector<Hostile> cases;
  cases.push_back({"dotdot", gz(TarBuilder().file("a/../../escape", "x")), "escape",
                   "org.banger.Error.InvalidArgument"});
  cases.push_back({"through-symlink",
                   gz(TarBuilder().symlink("opt", "/tmp").file("opt/passwd", "x")), "opt/passwd",
                   "org.banger.Error.InvalidArgument"});
  // banger's layer writes below /etc/ssh: an image whose /etc/ssh is a symlink is refused
  // rather than silently given a directory in its place.
  cases.push_back({"ssh-symlink", gz(TarBuilder().dir("etc").symlink("etc/ssh", "/config/ssh")),
                   "etc/ssh", "org.banger.Error.InvalidArgument"});
  cases.push_back({"hardlink-nowhere", gz(TarBuilder().hardlink("bin/sh", "bin/missing")), "bin/sh",
                   "org.banger.Error.InvalidArgument"});
  cases.push_back({"whiteout-dotdot", gz(TarBuilder().file("etc/.wh..", "")), ".wh..",
                   "org.banger.Error.InvalidArgument"});
  cases.push_back({"long-name", gz(TarBuilder().file("d/" + std::string(300, 'n'), "x")),
                   std::string(40, 'n'), "org.banger.Error.InvalidArgument"});
  std::string truncated = gz(TarBuilder().file("big", std::string(200000, 'q')).file("z", "z"));
  truncated.resize(truncated.size() / 2);
  cases.push_back({"truncated", truncated, "", "org.banger.Error.IntegrityError"});
  TarBuilder many;
  for (int i = 0; i < 150; ++i) many.file("f" + std::to_string(i), "x");
  cases.push_back({"entries", gz(many), "image_max_entries", "org.banger.Error.InvalidArgument"});
  cases.push_back({"bytes", gz(TarBuilder().file("zeros", std::string(20 << 20, '\0'))),
                   "image_max_bytes", "org.banger.Error.InvalidArgument"});

  for (const auto& c : cases) {
    if (c.name == "entries") writeConfig("image_max_entries = 100\nimage_max_bytes = \"16M\"\n");
    SCOPED_TRACE(c.name);
    pushImage({{c.layer}}, c.name);
    const JobOutcome outcome = pull(ref("banger/test:" + c.name));
    EXPECT_EQ(outcome.state, "failed");
    EXPECT_EQ(outcome.errorName, c.errorName) << outcome.errorMessage;
    EXPECT_NE(outcome.errorMessage.find(sha256Digest(c.layer)), std::string::npos)
        << "names the layer: " << outcome.errorMessage;
    EXPECT_NE(outcome.errorMessage.find(c.entry), std::string::npos) << outcome.errorMessage;
    EXPECT_EQ(storeFiles(), std::vector<std::string>{});
    EXPECT_EQ(imageNames(), std::vector<std::string>{});
  }
  writeConfig("");
  pushImage({{gz(TarBuilder().file("fine", "yes"))}}, "fine");
  EXPECT_EQ(pull(ref("banger/test:fine")).state, "succeeded") << "the service keeps serving";
}

TEST_F(ImageService, ACorruptedBlobInTheRegistryIsRefusedAndNothingIsKept) {
  const std::string blob = gz(TarBuilder().file("data", std::string(100000, 'd')));
  pushImage({{blob}}, "v1");
  std::string stored = readFile(registry_.blobFile(sha256Digest(blob)));
  stored[stored.size() / 2] = static_cast<char>(stored[stored.size() / 2] ^ 1);
  writeFile(registry_.blobFile(sha256Digest(blob)), stored);
  const JobOutcome outcome = pull(ref("banger/test:v1"));
  EXPECT_EQ(outcome.errorName, "org.banger.Error.IntegrityError") << outcome.errorMessage;
  EXPECT_NE(outcome.errorMessage.find(sha256Digest(blob)), std::string::npos);
  EXPECT_EQ(storeFiles(), std::vector<std::string>{});
  EXPECT_FALSE(std::filesystem::exists(cacheDir() / "blobs/sha256" / sha256Digest(blob).substr(7)));
}

}  // namespace
}  // namespace banger::test
