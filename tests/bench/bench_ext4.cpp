// A Debian rootfs tar → ext4: banger's one-pass writer (ext4-write) against the peer,
// `tar -x` onto a fresh tmpfs directory + `mkfs.ext4 -d`, in the same run. Both images
// are 1 GiB sparse without a journal (the base rootfs has none). Five runs each, the
// median and the ratio, and the writer's peak RSS. Prints; asserts nothing.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "banger/process.h"
#include "debian_rootfs.h"
#include "harness.h"

using namespace banger;
using namespace banger::test;

namespace {

double secondsOf(const std::vector<Command>& steps) {
  SystemProcessRunner runner;
  auto start = std::chrono::steady_clock::now();
  for (const auto& step : steps) {
    auto result = runner.run(step);
    if (!result.ok()) throw std::runtime_error(step.argv[0] + " failed: " + result.err);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

long childrenPeakRssKiB() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main() {
  std::string why;
  auto tar = debianRootfsTar(why);
  if (!tar) {
    std::printf("bench-ext4: skipped: %s\n", why.c_str());
    return 0;
  }
  TempDir work;
  const std::string image = (work.path() / "banger.ext4").string();
  const std::string peerImage = (work.path() / "peer.ext4").string();
  const int runs = 5;

  std::vector<double> banger, peer;
  // Each run writes a new file: truncating the previous run's image is not part of the job.
  for (int run = 0; run < runs; ++run) {
    std::filesystem::remove(image);
    banger.push_back(secondsOf({Command({BANGER_EXT4_WRITE_BIN, *tar, image, "1024"})}));
  }
  long bangerRss = childrenPeakRssKiB();  // before any peer process runs

  for (int run = 0; run < runs; ++run) {
    // A fresh tmpfs directory each time: extracting into a host ext4 right after
    // deleting a similar tree is 5-10x slower (IMAGE-NOTES trap 1) and would flatter us.
    std::filesystem::path tree = "/dev/shm/banger-bench-peer-" + std::to_string(run);
    std::filesystem::remove_all(tree);
    std::filesystem::create_directories(tree);
    std::filesystem::remove(peerImage);
    peer.push_back(secondsOf({Command({"tar", "-xpf", *tar, "-C", tree.string(), "--numeric-owner",
                                       "--xattrs", "--xattrs-include=*", "--acls"}),
                              Command({"mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-d",
                                       tree.string(), peerImage, "1G"})}));
    std::filesystem::remove_all(tree);
  }

  std::printf("rootfs tar → ext4 (%s, %.0f MB)\n", tar->c_str(),
              static_cast<double>(std::filesystem::file_size(*tar)) / 1e6);
  std::printf("  banger writer          median %.3f s  runs", median(banger));
  for (double s : banger) std::printf(" %.3f", s);
  std::printf("\n  tar -x + mkfs.ext4 -d  median %.3f s  runs", median(peer));
  for (double s : peer) std::printf(" %.3f", s);
  std::printf("\n  ratio (peer / banger)  %.2fx faster\n", median(peer) / median(banger));
  std::printf("  banger writer peak RSS %.1f MiB\n", static_cast<double>(bangerRss) / 1024);
  return 0;
}
