// firecracker-sim booting a plain Debian bookworm image through the API, two VMs at once
// on a bridge in a network namespace of the test's own: systemd reaches `running`, SSH
// with the key on the disk shows the boot args, a read-only disk stays unwritten, the
// VMs reach each other, vsock works both ways, a guest cannot mount devtmpfs or sysfs,
// SendCtrlAltDel ends the simulator with 0, and a SIGKILL leaves nothing behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <thread>

#include "core/spec.h"
#include "harness.h"
#include "sim_image.h"
#include "stand_in.h"

namespace fcfake::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using Outcome = banger::test::Shell;
using banger::test::shell;

struct Vm {
  std::string name;
  std::string address;
  fs::path dir;
  std::unique_ptr<StandIn> sim;
  std::chrono::steady_clock::time_point started;
  int helloListener = -1;
};

// "CONNECT 5000\n" then "ping" through the VM's vsock socket; what comes back.
std::string connectAndEcho(const Vm& vm) {
  return vsockExchange((vm.dir / "v.sock").string(), 5000, "ping", 5s);
}

class SimBoot : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skipReason_ = simUnavailable();
    if (!skipReason_.empty()) return;
    image_ = simImage(skipReason_);
    if (!image_) return;
    temp_ = new banger::test::TempDir();
    netns_ = "fcsim-" + std::to_string(getpid());
    ASSERT_EQ(shell("ip netns add " + netns_ + " && ip -n " + netns_ + " link set lo up && ip -n " +
                    netns_ + " link add br0 type bridge && ip -n " + netns_ +
                    " addr add 10.77.0.1/24 dev br0 && ip -n " + netns_ + " link set br0 up")
                  .status,
              0);
    for (int i = 0; i < 2; ++i) {
      Vm& vm = vms_[i];
      vm.name = "simvm" + std::to_string(i);
      vm.address = "10.77.0." + std::to_string(i + 2);
      vm.dir = temp_->path() / vm.name;
      fs::create_directories(vm.dir);
      const std::string tap = "tap" + std::to_string(i);
      ASSERT_EQ(shell("ip -n " + netns_ + " tuntap add " + tap + " mode tap && ip -n " + netns_ +
                      " link set " + tap + " master br0 up")
                    .status,
                0);
      ASSERT_EQ(shell("cp --sparse=always '" + image_->rootfs.string() + "' '" +
                      (vm.dir / "rootfs.ext4").string() + "' && printf original > '" +
                      (vm.dir / "data.img").string() + "' && truncate -s 4M '" +
                      (vm.dir / "data.img").string() + "'")
                    .status,
                0);
      // The guest greets the host's port 6000 at boot: listen before it starts.
      vm.helloListener = listenUnix((vm.dir / "v.sock").string() + "_6000");
      ASSERT_GE(vm.helloListener, 0);
      vm.sim = std::make_unique<StandIn>(
          FIRECRACKER_SIM_BIN, vm.dir, std::vector<std::string>{}, vm.name,
          // nsenter, not ip netns exec: that one remounts /sys, hiding /sys/fs/cgroup from nspawn.
          std::vector<std::string>{"nsenter", "--net=/run/netns/" + netns_});
      bootThroughTheApi(vm, tap);
    }
  }

  static void bootThroughTheApi(Vm& vm, const std::string& tap) {
    StandIn& sim = *vm.sim;
    ASSERT_FALSE(sim.wait(0ms)) << vm.name << "'s simulator ended before its first request: "
                                << banger::test::readFile(vm.dir / "stderr.out");
    const std::string kernel = writeFakeKernel(vm.dir).string();
    const std::string bootArgs =
        "console=ttyS0 reboot=k panic=1 sim.ip=" + vm.address + "/24 sim.gw=10.77.0.1";
    const auto put = [&](const std::string& path, const Json& body) {
      const ApiAnswer answer = sim.call("PUT", path, body.dump());
      ASSERT_EQ(answer.status, 204) << path << ": " << answer.body;
    };
    put("/logger", {{"log_path", (vm.dir / "fc.log").string()}, {"level", "Info"}});
    put("/machine-config", {{"vcpu_count", 1}, {"mem_size_mib", 256}});
    put("/boot-source", {{"kernel_image_path", kernel}, {"boot_args", bootArgs}});
    put("/drives/rootfs", {{"drive_id", "rootfs"},
                           {"path_on_host", (vm.dir / "rootfs.ext4").string()},
                           {"is_root_device", true},
                           {"is_read_only", false}});
    put("/drives/data", {{"drive_id", "data"},
                         {"path_on_host", (vm.dir / "data.img").string()},
                         {"is_root_device", false},
                         {"is_read_only", true}});
    put("/network-interfaces/eth0",
        {{"iface_id", "eth0"},
         {"host_dev_name", tap},
         {"guest_mac", vm.address == "10.77.0.2" ? "06:00:0a:4d:00:02" : "06:00:0a:4d:00:03"}});
    put("/vsock", {{"guest_cid", 3}, {"uds_path", (vm.dir / "v.sock").string()}});
    put("/serial", {{"serial_out_path", (vm.dir / "console.log").string()}});
    const auto started = std::chrono::steady_clock::now();
    put("/actions", {{"action_type", "InstanceStart"}});
    vm.started = started;
  }

  // `command` run as root in the guest over SSH, from the test's namespace.
  static Outcome ssh(const Vm& vm, const std::string& command) {
    return shell("ip netns exec " + netns_ + " ssh -q -i '" + image_->sshKey.string() +
                 "' -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                 "-o ConnectTimeout=3 root@" +
                 vm.address + " '" + command + "'");
  }
  static bool sshReady(const Vm& vm, std::chrono::seconds timeout) {
    return banger::test::waitFor([&] { return ssh(vm, "true").status == 0; }, timeout);
  }
  static void TearDownTestSuite() {
    for (Vm& vm : vms_) {
      vm.sim.reset();
      if (vm.helloListener >= 0) close(vm.helloListener);
    }
    if (!netns_.empty()) shell("ip netns del " + netns_);
    delete temp_;
  }
  void SetUp() override {
    if (!skipReason_.empty()) GTEST_SKIP() << skipReason_;
  }

  static inline std::string skipReason_;
  static inline std::optional<SimImage> image_;
  static inline banger::test::TempDir* temp_ = nullptr;
  static inline std::string netns_;
  static inline std::array<Vm, 2> vms_;
};

TEST_F(SimBoot, TheGuestReachesRunningAndSshShowsTheBootArgs) {
  for (const Vm& vm : vms_) {
    ASSERT_TRUE(sshReady(vm, 120s)) << banger::test::readFile(vm.dir / "console.log")
                                    << banger::test::readFile(vm.dir / "stderr.out");
    const Outcome state = ssh(vm, "systemctl is-system-running --wait");
    EXPECT_EQ(state.out, "running\n") << ssh(vm, "systemctl --failed --no-legend").out;
    EXPECT_EQ(ssh(vm, "cat /proc/cmdline").out,
              "console=ttyS0 reboot=k panic=1 sim.ip=" + vm.address +
                  "/24 sim.gw=10.77.0.1 pci=off root=/dev/vda rw\n");
    // The MAC given at PUT /network-interfaces is eth0's.
    EXPECT_NE(ssh(vm, "ip -o link show eth0")
                  .out.find(vm.address == "10.77.0.2" ? "06:00:0a:4d:00:02" : "06:00:0a:4d:00:03"),
              std::string::npos);
  }
}

TEST_F(SimBoot, AReadOnlyDiskCannotBeWrittenFromTheGuest) {
  const Vm& vm = vms_[0];
  ASSERT_TRUE(sshReady(vm, 60s));
  EXPECT_EQ(ssh(vm, "head -c 8 /dev/vdb").out, "original");
  EXPECT_NE(ssh(vm, "printf changed | dd of=/dev/vdb conv=notrunc").status, 0);
  EXPECT_EQ(banger::test::readFile(vm.dir / "data.img").substr(0, 8), "original");
  // And the root disk, writable, is: a file written in the guest lands in the image.
  EXPECT_EQ(ssh(vm, "echo written > /root/mark && sync").status, 0);
}

TEST_F(SimBoot, TheGuestsTmpHoldsWhatAProgramPutsThere) {
  // The command line's tmpfs sits over /tmp: it must serve as the guest's /tmp (half its
  // 256 MiB, as tmp.mount would), not just hold the command line.
  const Vm& vm = vms_[0];
  ASSERT_TRUE(sshReady(vm, 60s));
  EXPECT_EQ(ssh(vm, "dd if=/dev/zero of=/tmp/big bs=1M count=64 status=none && du -m /tmp/big").out,
            "64\t/tmp/big\n");
  EXPECT_EQ(ssh(vm, "rm /tmp/big && df --output=size -m /tmp | tail -1 | tr -d \" \"").out,
            "128\n");
}

TEST_F(SimBoot, TwoVmsReachEachOtherOverTheBridge) {
  ASSERT_TRUE(sshReady(vms_[0], 60s));
  ASSERT_TRUE(sshReady(vms_[1], 60s));
  EXPECT_EQ(ssh(vms_[0], "ping -c 1 -W 2 10.77.0.3").status, 0);
  EXPECT_EQ(ssh(vms_[1], "ping -c 1 -W 2 10.77.0.2").status, 0);
}

TEST_F(SimBoot, VsockReachesTheGuestAndTheGuestReachesTheHost) {
  for (const Vm& vm : vms_) {
    ASSERT_TRUE(sshReady(vm, 60s));
    // Host → guest: CONNECT 5000 on uds_path reaches vsock-probe's echo in the guest.
    std::string echo;
    ASSERT_TRUE(banger::test::waitFor(
        [&] { return (echo = connectAndEcho(vm)).find("ping") != std::string::npos; }, 20s))
        << echo;
    EXPECT_EQ(echo, "OK 1073741824\nping");
    // Guest → host: its greeting arrived on <uds_path>_6000.
    timeval timeout{20, 0};
    setsockopt(vm.helloListener, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const int peer = accept(vm.helloListener, nullptr, nullptr);
    ASSERT_GE(peer, 0) << "no greeting from " << vm.name;
    setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buffer[128] = {};
    const ssize_t n = recv(peer, buffer, sizeof buffer - 1, MSG_WAITALL);
    close(peer);
    EXPECT_EQ(std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0).rfind("hello from", 0), 0u);
  }
}

TEST_F(SimBoot, AGuestCannotMountDevtmpfsOrSysfsNorSeeHostDevices) {
  const Vm& vm = vms_[0];
  ASSERT_TRUE(sshReady(vm, 60s));
  const Outcome devtmpfs = ssh(vm, "mkdir -p /mnt/d && mount -t devtmpfs none /mnt/d");
  EXPECT_NE(devtmpfs.status, 0);
  EXPECT_NE(devtmpfs.out.find("ermission denied"), std::string::npos) << devtmpfs.out;
  EXPECT_NE(ssh(vm, "mkdir -p /mnt/s && mount -t sysfs none /mnt/s").status, 0);
  EXPECT_EQ(ssh(vm, "ls /mnt/d | wc -l").out, "0\n");
  EXPECT_EQ(ssh(vm, "ls /dev | grep -c -E \"^(loop|kvm|sd|nvme)\" || true").out, "0\n");
  EXPECT_EQ(ssh(vm, "ls /dev/vda /dev/vdb").status, 0);
}

TEST_F(SimBoot, SendCtrlAltDelEndsTheSimulatorWithZero) {
  Vm& vm = vms_[0];
  ASSERT_TRUE(sshReady(vm, 60s));
  ASSERT_EQ(vm.sim->call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})").status, 204);
  EXPECT_EQ(vm.sim->wait(60s), 0) << banger::test::readFile(vm.dir / "console.log");
  EXPECT_EQ(shell("losetup -a | grep -c '" + vm.dir.string() + "' || true").out, "0\n");
}

TEST_F(SimBoot, SigkillOfTheSimulatorLeavesNoLoopDeviceMountNamespaceOrProcess) {
  Vm& vm = vms_[1];
  ASSERT_TRUE(sshReady(vm, 60s));
  const std::string netnsBefore = shell("lsns -n -t net | wc -l").out;
  ASSERT_EQ(shell("losetup -a | grep -c '" + vm.dir.string() + "'").out, "2\n");
  vm.sim->kill(SIGKILL);
  EXPECT_EQ(vm.sim->wait(10s), 128 + SIGKILL);
  // As with Firecracker, the TAP is free the moment the VMM is reaped: Net pools a TAP
  // only when nothing holds it open.
  EXPECT_EQ(shell("ip netns exec " + netns_ + " cat /sys/class/net/tap1/carrier").out, "0\n");
  EXPECT_TRUE(banger::test::waitFor(
      [&] {
        return shell("losetup -a | grep -c '" + vm.dir.string() + "' || true").out == "0\n" &&
               shell("pgrep -f -c '[s]ystemd-nspawn.*-M " + vm.name + "' || true").out == "0\n" &&
               shell("grep -c firecracker-sim /proc/*/mounts 2>/dev/null | grep -v ':0$' | wc -l")
                       .out == "0\n";
      },
      15s))
      << shell("losetup -a; pgrep -af nspawn").out;
  EXPECT_FALSE(fs::exists("/run/systemd/nspawn/propagate/" + vm.name));  // nspawn's state
  const std::string netnsAfter = shell("lsns -n -t net | wc -l").out;
  EXPECT_LT(std::stoi(netnsAfter), std::stoi(netnsBefore));
  EXPECT_EQ(ssh(vm, "true").status, 255);  // nobody answers at its address
}

}  // namespace
}  // namespace fcfake::test
