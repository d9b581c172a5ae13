// `banger kernel pull debian-cloud` against the peer's way of making the same boot set
// with Debian's own tools, in one run, each from a cold cache: apt-get update into
// private lists (the signed indices) and apt-get download, then dpkg-deb -x, the bzImage's
// payload cut out with od and inflated with lz4, depmod and modprobe --show-depends for
// the modules, and cpio for the initrd. Three runs each; medians split into verify,
// download, unpack and initrd, and the ratio. Needs Debian's archive. Prints only.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "banger/process.h"
#include "bench_support.h"
#include "harness.h"

using namespace banger;
using namespace banger::test;
using banger::bench::median;

namespace {

using Clock = std::chrono::steady_clock;

double timed(const std::string& script) {
  const auto start = Clock::now();
  Command command({"bash", "-c", "set -eu\n" + script});  // head ends tail with SIGPIPE
  command.timeout = std::chrono::minutes(10);
  const ProcessResult result = SystemProcessRunner().run(command);
  if (!result.ok())
    throw std::runtime_error("the peer failed (exit " + std::to_string(result.exitCode) +
                             "): " + script + "\n" + result.err + result.out);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct PeerRun {
  double verify, download, unpack, initrd;
  double total() const { return verify + download + unpack + initrd; }
};

PeerRun peer(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "lists/partial");
  std::filesystem::create_directories(dir / "cache/archives/partial");
  std::filesystem::create_directories(dir / "empty");
  writeFile(dir / "sources.list",
            "deb http://deb.debian.org/debian bookworm main\n"
            "deb http://deb.debian.org/debian bookworm-updates main\n"
            "deb http://deb.debian.org/debian-security bookworm-security main\n");
  const std::string d = dir.string();
  const std::string apt = "-q -o Dir::Etc::SourceList=" + d +
                          "/sources.list -o Dir::Etc::SourceParts=" + d +
                          "/empty -o Dir::State::Lists=" + d + "/lists -o Dir::Cache=" + d +
                          "/cache -o APT::Sandbox::User=root";
  PeerRun run{};
  run.verify = timed("apt-get " + apt + " update >/dev/null");
  run.download =
      timed("cd " + d + " && pkg=$(apt-cache " + apt +
            " depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')"
            " && apt-get " +
            apt + " download $pkg >/dev/null");
  run.unpack = timed("cd " + d +
                     " && dpkg-deb -x *.deb x && v=$(ls x/boot/vmlinuz-*) && "
                     "s=$(od -An -tu1 -j $((0x1f1)) -N1 $v | tr -d ' ') && "
                     "o=$(od -An -tu4 -j $((0x248)) -N4 $v | tr -d ' ') && "
                     "l=$(od -An -tu4 -j $((0x24c)) -N4 $v | tr -d ' ') && "
                     "tail -c +$(( (s+1)*512 + o + 1 )) $v | head -c $((l-4)) | lz4 -dc > vmlinux");
  run.initrd = timed(
      "cd " + d +
      " && ver=$(ls x/lib/modules) && depmod -b x $ver && mkdir -p tree/dev tree/lib/modules && "
      "modprobe -d x -S $ver --show-depends virtio_mmio virtio_blk virtio_net "
      "vmw_vsock_virtio_transport overlay | awk '$1==\"insmod\"{print $2}' | sort -u | "
      "xargs -I{} cp {} tree/lib/modules/ && cp " BANGER_BUILD_DIR
      "/agent/banger-init tree/init && "
      "mknod tree/dev/console c 5 1 && (cd tree && find . | sort | cpio -o -H newc --reproducible "
      "--quiet > ../initrd.img)");
  return run;
}

}  // namespace

int main() {
  if (geteuid() != 0) {
    std::printf("bench-kernel-pull: skipped: the peer's mknod and apt need root\n");
    return 0;
  }
  TempDir work;
  BusHarness harness(BusHarness::Options::sessionOnly());
  auto bus = harness.connectSession();
  const std::filesystem::path cache = harness.clientEnvironment().at("BANGER_CACHE_DIR");
  const int runs = 3;
  std::vector<bench::StageTimes> ours;
  std::vector<PeerRun> theirs;
  for (int i = 0; i < runs; ++i) {
    std::filesystem::remove_all(cache);  // each run downloads, as the peer's does
    ours.push_back(bench::timeImageJob(
        *bus, "PullKernel", std::string("debian-cloud"),
        std::map<std::string, sdbus::Variant>{{"force", sdbus::Variant(true)}}));
    theirs.push_back(peer(work.path() / ("peer-" + std::to_string(i))));
  }
  const auto ourMedian = [&](const std::string& stage) {
    std::vector<double> values;
    for (const auto& run : ours) values.push_back(stage.empty() ? run.total : run.length(stage));
    return median(values);
  };
  const auto theirMedian = [&](double PeerRun::*field) {
    std::vector<double> values;
    for (const auto& run : theirs) values.push_back(run.*field);
    return median(values);
  };
  std::vector<double> peerTotals;
  for (const auto& run : theirs) peerTotals.push_back(run.total());
  std::printf("kernel pull debian-cloud (cold cache), medians of %d runs, seconds\n", runs);
  std::printf("  %-10s %8s %8s\n", "stage", "banger", "peer");
  std::printf("  %-10s %8.3f %8.3f   (signed indices: banger's Release chain / apt-get update)\n",
              "verify", ourMedian("verify"), theirMedian(&PeerRun::verify));
  std::printf("  %-10s %8.3f %8.3f\n", "download", ourMedian("download"),
              theirMedian(&PeerRun::download));
  std::printf("  %-10s %8.3f %8.3f   (.deb → vmlinux and modules)\n", "unpack", ourMedian("unpack"),
              theirMedian(&PeerRun::unpack));
  std::printf("  %-10s %8.3f %8.3f\n", "initrd", ourMedian("initrd"),
              theirMedian(&PeerRun::initrd));
  std::printf("  %-10s %8.3f %8.3f\n", "total", ourMedian(""), median(peerTotals));
  std::printf("  ratio (peer / banger): %.2fx\n", median(peerTotals) / ourMedian(""));
  std::printf(
      "  peak RSS of banger-image: %.0f MiB\n",
      static_cast<double>(bench::statusKiB(nameOwnerPid(*bus, "org.banger.Image"), "VmHWM")) /
          1024);
  return 0;
}
