// AcquireLease + ReleaseLease round trips over D-Bus, with the TAP pool and without it,
// against the shell baseline a user would otherwise script (ip tuntap add ... user U;
// ip link set ... master banger0 up; ip link del), all in one run, in namespaces of
// its own. Prints medians and ratios. Root only.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "banger/process.h"
#include "harness.h"
#include "net_client.h"

using namespace banger;
using namespace banger::test;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median µs of one Acquire+Release through banger-net with the given pool size.
double bangerRoundTrip(unsigned poolSize, int rounds) {
  BusHarness::Options options;
  options.isolateNetwork = true;
  options.polkit = false;  // root: polkit is not asked
  BusHarness harness(options);
  writeFile(harness.root() / "etc/net.toml", "pool_size = " + std::to_string(poolSize) + "\n");
  auto bus = harness.connectSystem();
  banger::test::NetClient net(*bus);
  net.AcquireLease("warm-up", {});  // activation, bridge, pool fill
  net.ReleaseLease("warm-up");
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    net.AcquireLease("bench", {});
    net.ReleaseLease("bench");
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return median(samples);
}

// Median µs of the same work done by `ip` commands.
double shellRoundTrip(int rounds) {
  NetworkNamespace ns("bench");
  SystemProcessRunner runner;
  auto ip = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"ip", "-n", ns.name()});
    const auto r = runner.run(Command(args));
    if (!r.ok()) throw std::runtime_error("ip failed: " + r.err);
  };
  ip({"link", "add", "banger0", "type", "bridge"});
  ip({"link", "set", "banger0", "up"});
  const std::string user = std::to_string(getuid());
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    ip({"tuntap", "add", "bg-bench", "mode", "tap", "user", user});
    ip({"link", "set", "bg-bench", "master", "banger0", "up"});
    ip({"link", "del", "bg-bench"});
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return median(samples);
}
}  // namespace

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::cerr << "bench-net-lease: needs root (network namespaces, TAPs)\n";
    return 77;  // meson: skipped
  }
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 200;
  const double pooled = bangerRoundTrip(2, rounds);
  const double unpooled = bangerRoundTrip(0, rounds);
  const double shell = shellRoundTrip(rounds);
  std::printf("AcquireLease+ReleaseLease round trip, median of %d\n", rounds);
  std::printf("  banger-net, pool_size=2   %9.0f us\n", pooled);
  std::printf("  banger-net, pool_size=0   %9.0f us\n", unpooled);
  std::printf("  shell (ip tuntap/link x3) %9.0f us\n", shell);
  std::printf("ratio shell/banger (pooled)   %.1fx\n", shell / pooled);
  std::printf("ratio shell/banger (unpooled) %.1fx\n", shell / unpooled);
  return 0;
}
