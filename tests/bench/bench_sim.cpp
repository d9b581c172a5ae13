// The guest simulator's own figures, so later benchmarks know how much of a `vm run` is
// the stand-in: the plain Debian image booted by firecracker-sim through the API (TAP +
// frame relay) against the same image booted by bare systemd-nspawn on a veth pair (the
// floor the simulator builds on), in one run, in a network namespace of its own. Time
// from InstanceStart (or nspawn's start) to sshd's banner and to a vsock answer, iperf3
// throughput and ping RTT host→guest, the simulator's RSS. Prints; asserts nothing. Root.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "banger/files.h"
#include "harness.h"
#include "sim_image.h"
#include "stand_in.h"

using namespace fcfake::test;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

const std::string kNetns = "fcbench-" + std::to_string(getpid());
const std::string kBareNetns = kNetns + "-bare";
const std::string kSimAddress = "10.78.0.2";
const std::string kBareAddress = "10.78.0.3";

std::string shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  if (pclose(pipe) != 0) throw std::runtime_error("failed: " + command + "\n" + out);
  return out;
}

double millisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// sshd's banner on ADDRESS:22, read within 200 ms of connecting.
bool sshBanner(const std::string& address) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(22);
  inet_pton(AF_INET, address.c_str(), &peer.sin_addr);
  timeval timeout{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char banner[8] = {};
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer) == 0 &&
                  recv(fd, banner, sizeof banner, MSG_WAITALL) == 8 &&
                  std::memcmp(banner, "SSH-2.0-", 8) == 0;
  close(fd);
  return ok;
}

// "CONNECT 5000" through the VM's vsock socket answered by the guest's echo listener.
bool vsockAnswers(const fs::path& socketPath) {
  return vsockExchange(socketPath.string(), 5000, "x", std::chrono::seconds(1)).ends_with("\nx");
}

struct Figures {
  double sshMs = 0, vsockMs = 0, gbitPerSec = 0, rttMs = 0, rssMiB = 0;
};

void waitUntil(const std::function<bool()>& ready, const char* what) {
  if (!banger::test::waitFor(ready, std::chrono::seconds(120)))
    throw std::runtime_error(std::string("timed out waiting for ") + what);
}

std::string ssh(const fs::path& key, const std::string& address, const std::string& command) {
  return shell("ssh -q -i '" + key.string() +
               "' -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
               "root@" +
               address + " '" + command + "'");
}

// iperf3 from the bench's namespace to the guest (its server started over SSH), and ping.
void measureNetwork(const fs::path& key, const std::string& address, Figures& figures) {
  ssh(key, address, "/usr/local/bin/iperf3 -s -D -1 --logfile /run/iperf3.log");
  std::string report;
  waitUntil(
      [&] {
        try {
          report = shell("iperf3 -J -t 5 -c " + address);
          return true;
        } catch (const std::exception&) {
          return false;  // the server is not listening yet
        }
      },
      "iperf3's server in the guest");
  const nlohmann::json json = nlohmann::json::parse(report, nullptr, false);
  const nlohmann::json::json_pointer rate("/end/sum_received/bits_per_second");
  if (!json.is_object() || !json.contains(rate) || !json[rate].is_number())
    throw std::runtime_error("iperf3 to " + address + " measured nothing:\n" + report +
                             "\nserver:\n" + ssh(key, address, "cat /run/iperf3.log"));
  figures.gbitPerSec = json[rate].get<double>() / 1e9;
  const std::string ping = shell("ping -q -c 50 -i 0.02 " + address);
  std::smatch m;
  if (!std::regex_search(ping, m, std::regex(R"(= [0-9.]+/([0-9.]+)/)")))
    throw std::runtime_error("ping printed no RTT:\n" + ping);
  figures.rttMs = std::stod(m[1]);
}

double rssMiB(pid_t pid) {
  const std::string status = banger::test::readFile("/proc/" + std::to_string(pid) + "/status");
  std::smatch m;
  if (!std::regex_search(status, m, std::regex(R"(VmRSS:\s+([0-9]+) kB)"))) return 0;
  return std::stod(m[1]) / 1024;
}

Figures bootSim(const SimImage& image, const fs::path& dir, bool measureLinks) {
  fs::create_directories(dir);
  shell("cp --sparse=always '" + image.rootfs.string() + "' '" + (dir / "rootfs.ext4").string() +
        "'");
  StandIn sim(FIRECRACKER_SIM_BIN, dir, {}, "fcbench-sim");
  const auto put = [&](const std::string& path, const nlohmann::json& body) {
    const ApiAnswer answer = sim.call("PUT", path, body.dump());
    if (answer.status != 204) throw std::runtime_error(path + ": " + answer.body);
  };
  put("/machine-config", {{"vcpu_count", 2}, {"mem_size_mib", 1024}});
  put("/boot-source", {{"kernel_image_path", writeFakeKernel(dir).string()},
                       {"boot_args", "console=ttyS0 reboot=k panic=1 sim.ip=" + kSimAddress +
                                         "/24 sim.gw=10.78.0.1"}});
  put("/drives/rootfs", {{"drive_id", "rootfs"},
                         {"path_on_host", (dir / "rootfs.ext4").string()},
                         {"is_root_device", true},
                         {"is_read_only", false}});
  put("/network-interfaces/eth0",
      {{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"guest_mac", "06:00:0a:4e:00:02"}});
  put("/vsock", {{"guest_cid", 3}, {"uds_path", (dir / "v.sock").string()}});
  put("/serial", {{"serial_out_path", (dir / "console.log").string()}});
  Figures figures;
  const auto start = Clock::now();
  put("/actions", {{"action_type", "InstanceStart"}});
  bool ssh = false, vsock = false;
  waitUntil(
      [&] {
        if (!ssh && (ssh = sshBanner(kSimAddress))) figures.sshMs = millisSince(start);
        if (!vsock && (vsock = vsockAnswers(dir / "v.sock"))) figures.vsockMs = millisSince(start);
        return ssh && vsock;
      },
      "the simulated guest's sshd and vsock echo");
  if (measureLinks) measureNetwork(image.sshKey, kSimAddress, figures);
  figures.rssMiB = rssMiB(sim.pid());
  sim.call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})");
  sim.wait(std::chrono::seconds(60));
  return figures;
}

// SIGTERM makes nspawn power the container off (--kill-signal); a SIGKILL would leave
// the guest's processes holding the mount.
void stopNspawn(pid_t nspawn) {
  kill(nspawn, SIGTERM);
  int status;
  waitpid(nspawn, &status, 0);
}

// The same image under bare systemd-nspawn: the sim's flags without its supervision,
// eth0 a veth into the bridge. The vsock units are removed first: nothing intercepts
// AF_VSOCK here, and CID 2 is this machine's real host.
Figures bootBare(const SimImage& image, const fs::path& dir, bool measureLinks) {
  fs::create_directories(dir / "root");
  shell("cp --sparse=always '" + image.rootfs.string() + "' '" + (dir / "rootfs.ext4").string() +
        "' && mount -o loop '" + (dir / "rootfs.ext4").string() + "' '" + (dir / "root").string() +
        "' && rm -f '" + (dir / "root").string() +
        "'/etc/systemd/system/multi-user.target.wants/vsock-* '" + (dir / "root").string() +
        "'/usr/local/bin/vsock-probe");
  // Binds over /proc resolve inside the container's tree (GUEST-SIMULATOR.md).
  banger::test::writeFile(dir / "root/.bench-cmdline",
                          "sim.ip=" + kBareAddress + "/24 sim.gw=10.78.0.1 root=/dev/vda rw\n");
  Figures figures;
  const auto start = Clock::now();
  const pid_t nspawn = banger::test::spawnBackground(
      {"systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--console=read-only",
       "--kill-signal=SIGRTMIN+3", "--capability=CAP_NET_ADMIN", "--resolv-conf=off",
       "--timezone=off", "--link-journal=no", "--network-namespace-path=/run/netns/" + kBareNetns,
       "-D", (dir / "root").string(), "-M", "fcbench-bare",
       "--bind-ro=/.bench-cmdline:/proc/cmdline", "/sbin/init"},
      {}, dir / "console.log");
  try {
    waitUntil([&] { return sshBanner(kBareAddress); }, "the bare nspawn guest's sshd");
    figures.sshMs = millisSince(start);
    if (measureLinks) measureNetwork(image.sshKey, kBareAddress, figures);
  } catch (...) {
    stopNspawn(nspawn);
    shell("umount '" + (dir / "root").string() + "'");
    throw;
  }
  stopNspawn(nspawn);
  shell("umount '" + (dir / "root").string() + "'");
  return figures;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void setUpNetwork() {
  shell("ip netns add " + kNetns + " && ip netns add " + kBareNetns);
  const std::string in = "ip -n " + kNetns + " ";
  shell(in + "link set lo up && " + in + "link add br0 type bridge && " + in +
        "addr add 10.78.0.1/24 dev br0 && " + in + "link set br0 up && " + in +
        "tuntap add tap0 mode tap && " + in + "link set tap0 master br0 up && " + in +
        "link add veth0 type veth peer name eth0 netns " + kBareNetns + " && " + in +
        "link set veth0 master br0 up");
  // The bench itself joins the namespace: its probes, ssh, iperf3, ping and both guests'
  // launchers all live there.
  const int fd = open(("/run/netns/" + kNetns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("cannot enter " + kNetns);
  close(fd);
}

}  // namespace

int main() {
  std::string why = simUnavailable();
  if (!why.empty()) {
    std::cout << "bench-sim: skipped, " << why << "\n";
    return 0;
  }
  const std::optional<SimImage> image = simImage(why);
  if (!image) {
    std::cout << "bench-sim: skipped, " << why << "\n";
    return 0;
  }
  banger::test::TempDir temp;
  int status = 0;
  try {
    setUpNetwork();
    constexpr int kRounds = 3;  // boots alternate so drift on a shared machine hits both
    std::vector<double> simSsh, simVsock, bareSsh;
    Figures sim, bare;
    for (int round = 0; round < kRounds; ++round) {
      const bool last = round == kRounds - 1;
      const Figures s = bootSim(*image, temp.path() / ("sim" + std::to_string(round)), last);
      const Figures b = bootBare(*image, temp.path() / ("bare" + std::to_string(round)), last);
      simSsh.push_back(s.sshMs);
      simVsock.push_back(s.vsockMs);
      bareSsh.push_back(b.sshMs);
      if (last) sim = s, bare = b;
    }
    const auto row = [](const char* label, const std::string& sim, const std::string& bare,
                        const std::string& ratio) {
      std::printf("  %-38s %16s %16s %7s\n", label, sim.c_str(), bare.c_str(), ratio.c_str());
    };
    const auto format = [](const char* pattern, double value) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, pattern, value);
      return std::string(buffer);
    };
    std::printf("guest simulator, plain Debian bookworm image, median of %d boots\n", kRounds);
    row("", "firecracker-sim", "bare nspawn", "ratio");
    row("start -> sshd banner", format("%.0f ms", median(simSsh)),
        format("%.0f ms", median(bareSsh)), format("%.2f", median(simSsh) / median(bareSsh)));
    row("InstanceStart -> vsock echo", format("%.0f ms", median(simVsock)), "-", "-");
    row("iperf3 host -> guest (TAP relay / veth)", format("%.2f Gbit/s", sim.gbitPerSec),
        format("%.2f Gbit/s", bare.gbitPerSec), format("%.2f", sim.gbitPerSec / bare.gbitPerSec));
    row("ping RTT host -> guest", format("%.3f ms", sim.rttMs), format("%.3f ms", bare.rttMs),
        format("%.2f", sim.rttMs / bare.rttMs));
    row("firecracker-sim RSS, guest running", format("%.1f MiB", sim.rssMiB), "-", "-");
  } catch (const std::exception& error) {
    std::cerr << "bench-sim: " << error.what() << "\n";
    status = 1;
  }
  std::system(("ip netns del " + kNetns + "; ip netns del " + kBareNetns).c_str());
  return status;
}
