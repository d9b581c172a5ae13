// Kernels through the Image service as a user meets them: `debian-cloud` from Debian's
// archive (the signed Release → Packages → .deb chain), unpacked to an ELF vmlinux with
// the PVH note and an initrd of exactly banger-init, dev/console and the guest modules,
// byte-identical when built again; a tampered package, index or Release refused with
// nothing kept; import and bundles; Delete refused while an image names the kernel.
// Independent tools check the results: readelf, GNU cpio, modinfo.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "banger/process.h"
#include "image_service_fixture.h"

namespace banger::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::vector<std::string> kGuestModulesInLoadOrder = {"virtio_ring",
                                                           "virtio",
                                                           "virtio_mmio",
                                                           "virtio_blk",
                                                           "failover",
                                                           "net_failover",
                                                           "virtio_net",
                                                           "vsock",
                                                           "vmw_vsock_virtio_transport_common",
                                                           "vmw_vsock_virtio_transport",
                                                           "overlay"};

ProcessResult run(const std::vector<std::string>& argv, const std::string& cwd = "") {
  Command command(argv);
  command.workingDirectory = cwd;
  command.timeout = 5min;
  return SystemProcessRunner().run(command);
}

std::string sha256sum(const fs::path& file) {
  return run({"sha256sum", file.string()}).out.substr(0, 64);
}

// A Debian mirror on loopback (tests/support/archive_mirror.py) relaying deb.debian.org,
// serving files from `root` first, flipping a byte of whatever ends with `tamper`, and
// holding .deb downloads after their first MiB while `hold` exists.
struct Mirror {
  Mirror(const fs::path& dir, const std::string& upstream, const std::string& tamper = "",
         const fs::path& hold = {})
      : port(freeLoopbackPort()), root(dir / "mirror-root") {
    fs::create_directories(root);
    std::vector<std::string> argv = {"python3",
                                     BANGER_SOURCE_DIR "/tests/support/archive_mirror.py",
                                     std::to_string(port),
                                     root.string(),
                                     upstream,
                                     tamper.empty() ? "-" : tamper};
    if (!hold.empty()) argv.push_back(hold.string());
    const fs::path log = dir / ("mirror-" + std::to_string(port) + ".log");
    pid = spawnBackground(argv, {}, log);
    if (!waitFor([&] { return readFile(log).find("ready") != std::string::npos; }, 10s))
      throw std::runtime_error("the mirror did not start: " + readFile(log));
  }
  ~Mirror() { stopProcess(pid); }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  uint16_t port;
  fs::path root;
  pid_t pid = -1;
};

class Kernels : public ImageServiceTest {
 protected:
  std::pair<sdbus::ObjectPath, sdbus::ObjectPath> startKernelPull(const std::string& name,
                                                                  bool force = false) {
    sdbus::ObjectPath kernel, job;
    std::map<std::string, sdbus::Variant> options;
    if (force) options["force"] = sdbus::Variant(true);
    manager_->callMethod("PullKernel")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(name, options)
        .storeResultsTo(kernel, job);
    return {kernel, job};
  }
  JobOutcome pullKernel(const std::string& name, bool force = false) {
    return waitJob(startKernelPull(name, force).second, 600s);
  }
  std::map<std::string, sdbus::Variant> kernelProperties(const std::string& name) {
    sdbus::ObjectPath path;
    manager_->callMethod("FindKernel")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(name)
        .storeResultsTo(path);
    auto proxy = sdbus::createProxy(*bus_, "org.banger.Image", path);
    std::map<std::string, sdbus::Variant> props;
    proxy->callMethod("GetAll")
        .onInterface("org.freedesktop.DBus.Properties")
        .withArguments(std::string("org.banger.Image1.Kernel"))
        .storeResultsTo(props);
    return props;
  }
  sdbus::ObjectPath importKernel(const std::map<std::string, sdbus::Variant>& options) {
    sdbus::ObjectPath path;
    manager_->callMethod("ImportKernel")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(options)
        .storeResultsTo(path);
    return path;
  }
  void deleteKernel(const std::string& name) {
    sdbus::ObjectPath path;
    manager_->callMethod("FindKernel")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(name)
        .storeResultsTo(path);
    sdbus::createProxy(*bus_, "org.banger.Image", path)
        ->callMethod("Delete")
        .onInterface("org.banger.Image1.Kernel");
  }
  std::vector<std::string> kernelFiles() const {
    std::vector<std::string> files;
    for (const auto& file : storeFiles())
      if (file.starts_with("kernels/") || file.starts_with("staging/")) files.push_back(file);
    return files;
  }
  std::vector<std::string> cachedDebs() const {
    std::vector<std::string> out;
    std::error_code error;
    const fs::path dir = cacheDir().parent_path() / "debian/blobs/sha256";
    for (auto it = fs::directory_iterator(dir, error); !error && it != fs::directory_iterator();
         ++it)
      out.push_back(it->path().filename().string());
    return out;
  }
  // The entries GNU cpio lists, "mode name" per line (e.g. "crw------- dev/console").
  static std::vector<std::string> cpioListing(const fs::path& initrd) {
    const ProcessResult listed = run({"sh", "-c", "cpio -itv --quiet < '" + initrd.string() + "'"});
    EXPECT_EQ(listed.exitCode, 0) << listed.err;
    std::vector<std::string> entries;
    std::istringstream lines(listed.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string mode, links, owner, group, word, last;
      words >> mode >> links >> owner >> group;
      while (words >> word) last = word;
      entries.push_back(mode.substr(0, 1) + " " + owner + ":" + group + " " + last);
    }
    return entries;
  }
};

TEST_F(Kernels, DebianCloudIsAnElfWithPvhAndAnInitrdOfBangerInitAndItsModules) {
  const JobOutcome first = pullKernel("debian-cloud");
  ASSERT_EQ(first.state, "succeeded") << first.errorName << ": " << first.errorMessage;
  EXPECT_EQ(first.stages,
            (std::vector<std::string>{"verify", "download", "unpack", "initrd", "publish"}));
  auto props = kernelProperties("debian-cloud");
  const std::string version = props.at("Version").get<std::string>();
  EXPECT_TRUE(version.starts_with("6.1.0-") && version.ends_with("-cloud-amd64")) << version;
  EXPECT_EQ(props.at("Source").get<std::string>(), "catalog");
  EXPECT_TRUE(props.at("PvhEntry").get<bool>());
  EXPECT_EQ(props.at("Modules").get<std::vector<std::string>>(), kGuestModulesInLoadOrder);
  const fs::path vmlinux = props.at("VmlinuxPath").get<std::string>();
  const fs::path initrd = props.at("InitrdPath").get<std::string>();

  // readelf, not banger's own reader, says what the vmlinux is.
  const ProcessResult header = run({"readelf", "-h", vmlinux.string()});
  EXPECT_NE(header.out.find("ELF64"), std::string::npos) << header.out;
  EXPECT_NE(header.out.find("Advanced Micro Devices X86-64"), std::string::npos) << header.out;
  EXPECT_NE(header.out.find("EXEC (Executable file)"), std::string::npos) << header.out;
  const ProcessResult notes = run({"readelf", "-n", vmlinux.string()});
  EXPECT_NE(notes.out.find("Xen"), std::string::npos) << notes.out;
  EXPECT_NE(notes.out.find("(0x00000012)"), std::string::npos)  // XEN_ELFNOTE_PHYS32_ENTRY
      << notes.out;

  // GNU cpio lists exactly banger-init, dev/console and the modules (and their dirs).
  std::vector<std::string> expected = {"d root:root dev", "c root:root dev/console",
                                       "- root:root init", "d root:root lib",
                                       "d root:root lib/modules"};
  std::set<std::string> sortedModules(kGuestModulesInLoadOrder.begin(),
                                      kGuestModulesInLoadOrder.end());
  for (const auto& name : sortedModules)
    expected.push_back("- root:root lib/modules/" + name + ".ko");
  EXPECT_EQ(cpioListing(initrd), expected);
  const fs::path unpacked = work_.path() / "initrd";
  fs::create_directories(unpacked);
  ASSERT_EQ(
      run({"sh", "-c", "cpio -id --quiet < '" + initrd.string() + "'"}, unpacked.string()).exitCode,
      0);
  EXPECT_EQ(readFile(unpacked / "init"), readFile(BANGER_BUILD_DIR "/agent/banger-init"));
  // Every module's dependencies (as kmod's modinfo reads them) are in the initrd too.
  for (const auto& name : sortedModules) {
    const ProcessResult depends =
        run({"modinfo", "-F", "depends", (unpacked / "lib/modules" / (name + ".ko")).string()});
    ASSERT_EQ(depends.exitCode, 0) << depends.err;
    std::istringstream list(depends.out.substr(0, depends.out.find('\n')));
    for (std::string dependency; std::getline(list, dependency, ',');)
      EXPECT_TRUE(sortedModules.count(dependency)) << name << " needs " << dependency;
  }

  // A second build from the same package (now cached) gives the same bytes.
  const std::string vmlinuxSum = sha256sum(vmlinux), initrdSum = sha256sum(initrd);
  const JobOutcome again = pullKernel("debian-cloud", true);
  ASSERT_EQ(again.state, "succeeded") << again.errorMessage;
  props = kernelProperties("debian-cloud");
  EXPECT_NE(props.at("VmlinuxPath").get<std::string>(), vmlinux.string());  // a new directory
  EXPECT_EQ(sha256sum(props.at("VmlinuxPath").get<std::string>()), vmlinuxSum);
  EXPECT_EQ(sha256sum(props.at("InitrdPath").get<std::string>()), initrdSum);
  EXPECT_FALSE(fs::exists(vmlinux)) << "the replaced kernel's files are removed";
  EXPECT_EQ(kernelFiles().size(), 2u);
  EXPECT_EQ(cachedDebs().size(), 1u);

  // Import takes the same vmlinux with its modules from a directory; the initrd it builds
  // is the same bytes again.
  const auto imported =
      importKernel({{"name", sdbus::Variant(std::string("mine"))},
                    {"vmlinux", sdbus::Variant(props.at("VmlinuxPath").get<std::string>())},
                    {"modules", sdbus::Variant((unpacked / "lib/modules").string())}});
  EXPECT_EQ(std::string(imported), "/org/banger/Image/kernel/mine");
  const auto mine = kernelProperties("mine");
  EXPECT_EQ(mine.at("Source").get<std::string>(), "imported");
  EXPECT_EQ(mine.at("Version").get<std::string>(), version);
  EXPECT_EQ(sha256sum(mine.at("InitrdPath").get<std::string>()), initrdSum);

  // A kernel an image names cannot be deleted until the image is gone.
  TarBuilder layer;
  layer.file("etc/hostname", "k\n");
  pushImage({{layer.bytes(), "application/vnd.oci.image.layer.v1.tar"}}, "k");
  const JobOutcome image =
      pull(ref("banger/test:k"), {{"name", sdbus::Variant(std::string("k"))},
                                  {"kernel", sdbus::Variant(std::string("mine"))}});
  ASSERT_EQ(image.state, "succeeded") << image.errorMessage;
  const sdbus::Error busy = callError([&] { deleteKernel("mine"); });
  EXPECT_EQ(busy.getName(), "org.banger.Error.Busy");
  EXPECT_NE(busy.getMessage().find("used by image k"), std::string::npos) << busy.getMessage();
  sdbus::createProxy(*bus_, "org.banger.Image", findImage("k"))
      ->callMethod("Delete")
      .onInterface("org.banger.Image1.Image");
  deleteKernel("mine");
  EXPECT_TRUE(waitFor([&] { return kernelFiles().size() == 2; }, 5s));
  EXPECT_EQ(callError([&] { kernelProperties("mine"); }).getName(), "org.banger.Error.NotFound");
}

// Each link of the chain refuses a tampered piece, keeps nothing, and names what it refused.
TEST_F(Kernels, ATamperedPackageIndexOrReleaseIsRefusedAndNothingIsKept) {
  struct Case {
    const char* tamper;
    const char* named;
  };
  for (const Case c : {Case{".deb", ".deb"}, Case{"Packages.xz", "Packages.xz"},
                       Case{"InRelease", "InRelease is not signed"}}) {
    SCOPED_TRACE(c.tamper);
    Mirror mirror(work_.path(), "http://deb.debian.org", c.tamper);
    writeConfig("debian_mirror = \"" + mirror.url("/debian") + "\"\n" +
                "debian_security_mirror = \"" + mirror.url("/debian-security") + "\"\n");
    const JobOutcome outcome = pullKernel("debian-cloud");
    EXPECT_EQ(outcome.state, "failed");
    EXPECT_EQ(outcome.errorName, "org.banger.Error.IntegrityError") << outcome.errorMessage;
    EXPECT_NE(outcome.errorMessage.find(c.named), std::string::npos) << outcome.errorMessage;
    EXPECT_EQ(callError([&] { kernelProperties("debian-cloud"); }).getName(),
              "org.banger.Error.NotFound");
    EXPECT_TRUE(kernelFiles().empty());
    EXPECT_TRUE(cachedDebs().empty());
  }
}

// The service killed while it downloads the kernel package: after it is started again
// there is no kernel, no staging directory and no partial download, and a pull works.
TEST_F(Kernels, AServiceKilledMidDownloadLeavesNothingAndTheNextPullWorks) {
  const fs::path hold = work_.path() / "hold";
  writeFile(hold, "");
  Mirror mirror(work_.path(), "http://deb.debian.org", "", hold);
  writeConfig("debian_mirror = \"" + mirror.url("/debian") + "\"\n" +
              "debian_security_mirror = \"" + mirror.url("/debian-security") + "\"\n");
  auto [kernel, job] = startKernelPull("debian-cloud");
  auto jobProxy = sdbus::createProxy(*bus_, "org.banger.Image", job);
  ASSERT_TRUE(waitFor(
      [&] {
        return jobProxy->getProperty("Stage").onInterface("org.banger.Job1").get<std::string>() ==
                   "download" &&
               jobProxy->getProperty("CompletedBytes")
                       .onInterface("org.banger.Job1")
                       .get<uint64_t>() >= (1u << 20);
      },
      120s));
  ASSERT_FALSE(cachedDebs().empty()) << "the package's partial download is in the cache";
  const pid_t service = nameOwnerPid(*bus_, "org.banger.Image");
  ASSERT_GT(service, 0);
  ::kill(service, SIGKILL);
  fs::remove(hold);
  EXPECT_TRUE(waitFor([&] { return !nameHasOwner(*bus_, "org.banger.Image"); }, 10s));
  // The next call starts it again; it sweeps what the killed one left.
  EXPECT_EQ(callError([&] { kernelProperties("debian-cloud"); }).getName(),
            "org.banger.Error.NotFound");
  EXPECT_TRUE(kernelFiles().empty());
  for (const auto& blob : cachedDebs()) ADD_FAILURE() << "left in the cache: " << blob;
  const JobOutcome again = pullKernel("debian-cloud");
  EXPECT_EQ(again.state, "succeeded") << again.errorMessage;
}

TEST_F(Kernels, ABundleFromTheCatalogIsCheckedByItsSha256) {
  // A bundle as others publish kernels: a tar.zst with a vmlinux and nothing else (all
  // built in), made from a tiny ELF that passes for one.
  const fs::path tree = work_.path() / "bundle";
  fs::create_directories(tree);
  const ProcessResult compiled =
      run({"sh", "-c",
           "printf 'const char banner[] = \"Linux version 6.6.0-fc-ci (ci@example) #1\";"
           "int main(){return banner[0];}' > k.c && cc -O0 -static -no-pie -o vmlinux k.c"},
          tree.string());
  ASSERT_EQ(compiled.exitCode, 0) << compiled.err;
  Mirror host(work_.path(), "-");
  ASSERT_EQ(run({"tar", "--zstd", "-cf", (host.root / "ci-kernel.tar.zst").string(), "-C",
                 tree.string(), "vmlinux"})
                .exitCode,
            0);
  const std::string sum = sha256sum(host.root / "ci-kernel.tar.zst");
  writeConfig("[[catalog]]\nname = \"fc-ci\"\nurl = \"" + host.url("/ci-kernel.tar.zst") +
              "\"\nsha256 = \"" + sum + "\"\ndescription = \"a CI kernel\"\n\n" +
              "[[catalog]]\nname = \"fc-bad\"\nurl = \"" + host.url("/ci-kernel.tar.zst") +
              "\"\nsha256 = \"" + std::string(64, '0') + "\"\n");

  std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>> catalog;
  manager_->callMethod("Catalog").onInterface("org.banger.Image1.Manager").storeResultsTo(catalog);
  std::vector<std::string> names;
  for (const auto& entry : catalog) names.push_back(entry.get<0>() + "/" + entry.get<1>());
  EXPECT_EQ(names, (std::vector<std::string>{"debian-bookworm/image", "debian-cloud/kernel",
                                             "fc-ci/kernel", "fc-bad/kernel"}));

  const JobOutcome good = pullKernel("fc-ci");
  ASSERT_EQ(good.state, "succeeded") << good.errorMessage;
  const auto props = kernelProperties("fc-ci");
  EXPECT_EQ(props.at("Version").get<std::string>(), "6.6.0-fc-ci");
  EXPECT_EQ(props.at("Source").get<std::string>(), "bundle");
  EXPECT_EQ(props.at("InitrdPath").get<std::string>(), "");  // all built in: no initrd
  EXPECT_EQ(readFile(props.at("VmlinuxPath").get<std::string>()), readFile(tree / "vmlinux"));

  const JobOutcome bad = pullKernel("fc-bad");
  EXPECT_EQ(bad.errorName, "org.banger.Error.IntegrityError") << bad.errorMessage;
  EXPECT_EQ(kernelFiles().size(), 1u);
  const sdbus::Error unknown = callError([&] { startKernelPull("no-such-kernel"); });
  EXPECT_EQ(unknown.getName(), "org.banger.Error.NotFound");
  EXPECT_NE(unknown.getMessage().find("banger image catalog"), std::string::npos)
      << unknown.getMessage();
}

TEST_F(Kernels, ImportRefusesWhatIsNotAKernelNamingIt) {
  const fs::path text = work_.path() / "notes.txt";
  writeFile(text, "not a kernel\n");
  const sdbus::Error notElf = callError([&] {
    importKernel(
        {{"name", sdbus::Variant(std::string("x"))}, {"vmlinux", sdbus::Variant(text.string())}});
  });
  EXPECT_EQ(notElf.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(notElf.getMessage().find(text.string() + ": not an ELF file"), std::string::npos)
      << notElf.getMessage();
  const sdbus::Error relative = callError([&] {
    importKernel({{"name", sdbus::Variant(std::string("x"))},
                  {"vmlinux", sdbus::Variant(std::string("vmlinux"))}});
  });
  EXPECT_EQ(relative.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(relative.getMessage().find("'vmlinux' must be an absolute path"), std::string::npos);
  const sdbus::Error both = callError([&] {
    importKernel({{"name", sdbus::Variant(std::string("x"))},
                  {"vmlinux", sdbus::Variant(text.string())},
                  {"initrd", sdbus::Variant(text.string())},
                  {"modules", sdbus::Variant(work_.path().string())}});
  });
  EXPECT_NE(both.getMessage().find("not both"), std::string::npos) << both.getMessage();
  EXPECT_TRUE(kernelFiles().empty());
}

}  // namespace
}  // namespace banger::test
