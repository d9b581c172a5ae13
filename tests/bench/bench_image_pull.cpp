// An OCI image from a local registry → an ext4 rootfs: `banger image pull` (the Image
// service over D-Bus, blob cache emptied before each run so it downloads too) against
// the peer's way, `skopeo copy` to an OCI layout + `umoci raw unpack` onto a fresh tmpfs
// + `mkfs.ext4 -d`, in the same run. The image is the Debian rootfs (mmdebstrap) as one
// gzip layer. Five runs each, medians, the ratio, and peak RSS. Prints; asserts nothing.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "banger/process.h"
#include "bench_support.h"
#include "debian_rootfs.h"
#include "harness.h"
#include "oci/sha256.h"
#include "test_registry.h"

using namespace banger;
using namespace banger::test;
using banger::bench::median;
using banger::bench::statusKiB;

namespace {

using Clock = std::chrono::steady_clock;

void run(const Command& command) {
  auto result = SystemProcessRunner().run(command);
  if (!result.ok()) throw std::runtime_error(command.argv[0] + " failed: " + result.err);
}

}  // namespace

int main() {
  std::string why;
  auto tar = debianRootfsTar(why);
  if (!tar) {
    std::printf("bench-image-pull: skipped: %s\n", why.c_str());
    return 0;
  }
  TempDir work;
  const auto gzipped = work.path() / "layer.tar.gz";
  run(Command({"sh", "-c", "gzip -6 -c '" + *tar + "' > '" + gzipped.string() + "'"}));
  TestRegistry registry;
  OciLayout layout(work.path() / "layout");
  layout.addImage({{readFile(gzipped), "application/vnd.oci.image.layer.v1.tar+gzip",
                    image::oci::sha256Digest(readFile(*tar))}},
                  "v1");
  registry.push(layout, "v1", "bench/debian");
  const std::string reference = registry.host() + "/bench/debian:v1";
  const int runs = 5;

  BusHarness harness(BusHarness::Options::sessionOnly());
  auto bus = harness.connectSession();
  const std::filesystem::path cache =
      std::filesystem::path(harness.clientEnvironment().at("BANGER_CACHE_DIR")) / "oci";
  std::vector<double> banger, peer;
  for (int i = 0; i < runs; ++i) {
    std::filesystem::remove_all(cache);  // every run downloads, as the peer's does
    banger.push_back(bench::timeImageJob(*bus, "Pull", reference,
                                         std::map<std::string, sdbus::Variant>{
                                             {"name", sdbus::Variant(std::string("bench"))},
                                             {"force", sdbus::Variant(true)}})
                         .total);
  }
  const pid_t service = nameOwnerPid(*bus, "org.banger.Image");
  const long bangerRss = statusKiB(service, "VmHWM");

  for (int i = 0; i < runs; ++i) {
    // A fresh tmpfs tree each time (IMAGE-NOTES trap 1), and a fresh layout.
    const std::filesystem::path scratch = "/dev/shm/banger-bench-pull-" + std::to_string(i);
    std::filesystem::remove_all(scratch);
    std::filesystem::create_directories(scratch);
    const std::string peerImage = (work.path() / "peer.ext4").string();
    std::filesystem::remove(peerImage);
    const auto start = Clock::now();
    run(Command({"skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://" + reference,
                 "oci:" + (work.path() / ("peer-layout-" + std::to_string(i))).string() + ":v1"}));
    run(Command({"umoci", "raw", "unpack", "--image",
                 (work.path() / ("peer-layout-" + std::to_string(i))).string() + ":v1",
                 (scratch / "rootfs").string()}));
    run(Command({"mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-d", (scratch / "rootfs").string(),
                 peerImage, "1G"}));
    peer.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    std::filesystem::remove_all(scratch);
    std::filesystem::remove_all(work.path() / ("peer-layout-" + std::to_string(i)));
  }
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);

  std::printf("OCI image → ext4 rootfs (%s, one gzip layer of %.0f MB)\n", reference.c_str(),
              static_cast<double>(std::filesystem::file_size(gzipped)) / 1e6);
  std::printf("  banger image pull                     median %.3f s  runs", median(banger));
  for (double s : banger) std::printf(" %.3f", s);
  std::printf("\n  skopeo + umoci unpack + mkfs.ext4 -d  median %.3f s  runs", median(peer));
  for (double s : peer) std::printf(" %.3f", s);
  std::printf("\n  ratio (peer / banger)                 %.2fx faster\n",
              median(peer) / median(banger));
  std::printf("  peak RSS: banger-image %.1f MiB, the peer's largest process %.1f MiB\n",
              static_cast<double>(bangerRss) / 1024, static_cast<double>(usage.ru_maxrss) / 1024);
  return 0;
}
