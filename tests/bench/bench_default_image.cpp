// `banger image pull debian-bookworm` against the plain way to the same ext4, in one run:
// `mmdebstrap … image.tar` with the same packages and mirrors, `tar -x` onto a fresh tmpfs
// (IMAGE-NOTES trap 1) and `mkfs.ext4 -d`. banger streams mmdebstrap's tar into its
// writer, so its split is mmdebstrap (until the tar starts to flow), write (the tarball
// and the ext4, overlapped) and the work seed. Two runs each, medians and the ratio.
// Needs Debian's archive and root (mmdebstrap's root mode on both sides). Prints only.
#include <sys/resource.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "banger/process.h"
#include "bench_support.h"
#include "debian_image.h"
#include "harness.h"

using namespace banger;
using namespace banger::test;
using banger::bench::median;

namespace {

using Clock = std::chrono::steady_clock;

double timed(const std::vector<std::string>& argv) {
  const auto start = Clock::now();
  Command command(argv);
  command.timeout = std::chrono::minutes(20);
  const ProcessResult result = SystemProcessRunner().run(command);
  if (!result.ok()) throw std::runtime_error(argv[0] + " failed: " + result.err);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct PeerRun {
  double mmdebstrap, extract, mkfs;
  double total() const { return mmdebstrap + extract + mkfs; }
};

PeerRun peer(const std::filesystem::path& work, int index) {
  std::string include;
  for (const char* package : image::kDebianImagePackages)
    include += (include.empty() ? "" : ",") + std::string(package);
  const std::filesystem::path tar = work / "peer.tar", image = work / "peer.ext4";
  const std::filesystem::path tree = "/dev/shm/banger-bench-default-" + std::to_string(index);
  std::filesystem::remove(tar);
  std::filesystem::remove(image);
  std::filesystem::remove_all(tree);
  std::filesystem::create_directories(tree);
  PeerRun run{};
  run.mmdebstrap = timed({"mmdebstrap", "--quiet", "--variant=minbase", "--mode=root",
                          "--format=tar", "--include=" + include, "bookworm", tar.string(),
                          "deb http://deb.debian.org/debian bookworm main",
                          "deb http://deb.debian.org/debian bookworm-updates main",
                          "deb http://deb.debian.org/debian-security bookworm-security main"});
  run.extract = timed({"tar", "-xpf", tar.string(), "-C", tree.string(), "--numeric-owner",
                       "--xattrs", "--xattrs-include=*"});
  run.mkfs = timed(
      {"mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-d", tree.string(), image.string(), "4G"});
  std::filesystem::remove_all(tree);
  return run;
}

}  // namespace

int main() {
  if (geteuid() != 0) {
    std::printf("bench-default-image: skipped: the peer's mmdebstrap runs in root mode\n");
    return 0;
  }
  TempDir work;
  BusHarness harness(BusHarness::Options::sessionOnly());
  auto bus = harness.connectSession();
  const int runs = 2;
  std::vector<bench::StageTimes> ours;
  std::vector<PeerRun> theirs;
  for (int i = 0; i < runs; ++i) {
    // A kernel outside the catalog: the image alone, as the peer builds it.
    ours.push_back(bench::timeImageJob(
        *bus, "Pull", std::string("debian-bookworm"),
        std::map<std::string, sdbus::Variant>{{"kernel", sdbus::Variant(std::string("mine"))},
                                              {"force", sdbus::Variant(true)}}));
    theirs.push_back(peer(work.path(), i));
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
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  const pid_t service = nameOwnerPid(*bus, "org.banger.Image");
  std::printf("image pull debian-bookworm, medians of %d runs, seconds\n", runs);
  std::printf(
      "  banger: mmdebstrap %.1f, write (tarball → ext4, streamed) %.1f, work seed %.1f, "
      "total %.1f\n",
      ourMedian("mmdebstrap"), ourMedian("write"), ourMedian("work-seed"), ourMedian(""));
  std::printf("  peer:   mmdebstrap → tar %.1f, tar -x %.1f, mkfs.ext4 -d %.1f, total %.1f\n",
              theirMedian(&PeerRun::mmdebstrap), theirMedian(&PeerRun::extract),
              theirMedian(&PeerRun::mkfs), median(peerTotals));
  std::printf(
      "  ratio (peer / banger): %.2fx; the step after mmdebstrap's own work: banger's "
      "write %.1f s vs tar -x + mkfs %.1f s\n",
      median(peerTotals) / ourMedian(""), ourMedian("write"),
      theirMedian(&PeerRun::extract) + theirMedian(&PeerRun::mkfs));
  std::printf("  peak RSS: banger-image %.0f MiB, the peer's largest process %.0f MiB\n",
              static_cast<double>(bench::statusKiB(service, "VmHWM")) / 1024,
              static_cast<double>(usage.ru_maxrss) / 1024);
  return 0;
}
