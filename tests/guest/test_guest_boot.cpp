// banger's guest side booted for real in the guest simulator (suite `guest`, root): the
// default image debian-bookworm, which the Image service builds with mmdebstrap, and the
// initrd of its kernel debian-cloud (banger-init and Debian's modules), booted as a
// Firecracker VM of banger's would be — base read-only, overlay and work disks, the banger.*
// command line — then looked at from outside: the overlay root, the work disk on /root, eth0,
// hostname, resolv.conf, systemd running, sshd with StrictModes taking the work disk's key, and the
// agent's /healthz and /ports through the vsock socket; the system bus and logind started
// on demand, the login banner without update-motd.d, the boot's records without systemd's
// programs for them, no getty on the console. Broken command lines end the VM with one
// console line; an image without sshd runs the first-boot unit.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "banger/process.h"
#include "boot_params.h"
#include "debian_rootfs.h"
#include "ext4_reader.h"
#include "guest_fixture.h"
#include "harness.h"

namespace banger::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// The agent's /healthz once systemd's state in it is `state` (within a minute), or
// whatever it last said.
Json healthOnce(const GuestVm& vm, const std::string& state) {
  Json health;
  waitFor(
      [&] {
        const std::string body = vm.agent("/healthz");
        if (body.empty()) return false;
        health = Json::parse(body);
        return health["systemd"] == state;
      },
      60s);
  return health;
}

class GuestBoot : public GuestFixture {
 protected:
  static void SetUpTestSuite() {
    GuestFixture::SetUpSuite();
    if (!skipReason().empty()) return;
    guest_ = bootImage("debian-bookworm", "full-vm", "10.78.0.2", {"10.78.0.1", "10.78.0.254"});
  }
  static void TearDownTestSuite() {
    delete guest_;
    guest_ = nullptr;
    GuestFixture::TearDownSuite();
  }
  void SetUp() override {
    if (!skipReason().empty()) GTEST_SKIP() << skipReason();
    ASSERT_TRUE(guest_->sshReady(120s)) << guest_->diagnostics();
  }
  static inline GuestVm* guest_ = nullptr;
};

TEST_F(GuestBoot, BangerInitSaysWhatItAssembledOnTheConsole) {
  EXPECT_NE(guest_->console().find("banger-init: / is the overlay of /dev/vdb over /dev/vda, "
                                   "/root is /dev/vdc, eth0 10.78.0.2/24 via 10.78.0.1; "
                                   "starting /sbin/init"),
            std::string::npos)
      << guest_->console();
}

TEST_F(GuestBoot, TheDefaultImageHasTheToolsADeveloperExpects) {
  EXPECT_EQ(guest_
                ->ssh("for p in git make gcc g++ curl tmux vim.tiny less ps ip ping sshd; do "
                      "command -v $p >/dev/null || echo missing $p; done")
                .out,
            "");
  EXPECT_EQ(guest_->ssh("dpkg-query -W -f=\"\\${Status}\" build-essential").out,
            "install ok installed");
  EXPECT_EQ(guest_->ssh("cat /etc/debian_version | cut -d. -f1").out, "12\n");
}

// A login's banner has the kernel line Debian's update-motd.d printed, although the
// default image leaves update-motd.d out, so that pam_motd runs no programs at each login.
TEST_F(GuestBoot, ALoginShowsTheKernelLineThatNoUpdateMotdRunsFor) {
  EXPECT_EQ(guest_->ssh("test -e /etc/update-motd.d || echo absent").out, "absent\n");
  std::string kernel = guest_->ssh("uname -snrvm").out;
  ASSERT_EQ(kernel.rfind("Linux full-vm ", 0), 0u) << kernel;
  kernel.pop_back();
  const Shell login = guest_->login("exit\n");
  EXPECT_NE(login.out.find(kernel + "\r\n"), std::string::npos) << login.out;
}

// The pull's stages, as `banger image pull debian-bookworm` shows them: its kernel
// first (it was missing), then mmdebstrap's own phases, the write, the work seed.
TEST_F(GuestBoot, TheDefaultImagePullSaysWhatItDoes) {
  std::vector<std::string> stages;
  for (const std::string& line : defaultImageStages()) {
    const std::string stage = line.substr(0, line.find(':'));
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
  }
  EXPECT_EQ(stages,
            (std::vector<std::string>{"kernel", "verify", "download", "unpack", "initrd", "publish",
                                      "mmdebstrap", "write", "work-seed", "publish"}));
  const auto said = [&](const std::string& line) {
    return std::find(defaultImageStages().begin(), defaultImageStages().end(), line) !=
           defaultImageStages().end();
  };
  EXPECT_TRUE(said("mmdebstrap: running apt-get update..."));
  EXPECT_TRUE(said("mmdebstrap: installing remaining packages inside the chroot..."));
  EXPECT_TRUE(said("write: mmdebstrap's tar into debian-bookworm"));
}

TEST_F(GuestBoot, SystemdReachesRunning) {
  const Shell state = guest_->ssh("systemctl is-system-running --wait");
  EXPECT_EQ(state.out, "running\n") << guest_->ssh("systemctl --failed --no-legend").out;
}

// The default image starts the system bus and logind when first asked for, not at boot
// beside sshd and the first command: neither runs once the boot is done, and loginctl
// and hostnamectl still work, starting them.
TEST_F(GuestBoot, TheSystemBusAndLogindStartWhenFirstAskedFor) {
  ASSERT_EQ(guest_->ssh("systemctl is-system-running --wait").out, "running\n");
  EXPECT_EQ(guest_->ssh("systemctl is-active dbus.service systemd-logind.service").out,
            "inactive\ninactive\n");
  EXPECT_EQ(
      guest_->ssh("loginctl list-sessions --no-legend >/dev/null && hostnamectl --static").out,
      "full-vm\n");
  EXPECT_EQ(guest_->ssh("systemctl is-active dbus.service systemd-logind.service").out,
            "active\nactive\n");
}

// The boot is recorded where Debian's tools look for it (`who -b`, `runlevel`, `last`),
// and nothing keeps an ordinary user's login waiting for /run/nologin to go, although
// systemd ran no program for the units that did this: banger-init did it before.
TEST_F(GuestBoot, TheBootIsRecordedThoughSystemdRanNoProgramForIt) {
  ASSERT_EQ(guest_->ssh("systemctl is-system-running --wait").out, "running\n");
  for (const char* unit : {"systemd-update-utmp.service", "systemd-user-sessions.service"}) {
    EXPECT_EQ(guest_->ssh(std::string("systemctl is-active ") + unit).out, "active\n") << unit;
    EXPECT_EQ(
        guest_->ssh(std::string("systemctl show -P ExecMainStartTimestampMonotonic ") + unit).out,
        "0\n")
        << unit << " started a program";
  }
  EXPECT_EQ(guest_->ssh("systemctl is-enabled systemd-update-utmp-runlevel.service").out,
            "masked\n");
  EXPECT_EQ(guest_->ssh("runlevel").out, "N 5\n");
  EXPECT_NE(guest_->ssh("who -b").out.find("system boot"), std::string::npos);
  EXPECT_EQ(guest_->ssh("stat -c %a:%U:%G /run/utmp").out, "664:root:utmp\n");
  EXPECT_EQ(guest_->ssh("last -x -w reboot | grep -c \"^reboot *system boot *$(uname -r) \"").out,
            "1\n")
      << "one boot, one record: " << guest_->ssh("last -x -w").out;
  EXPECT_EQ(guest_->ssh("test -e /run/nologin || echo none").out, "none\n");
}

// The serial console is output only (`vm logs`): no getty waits there for a login no one
// can type, on a VM (serial-getty@ttyS0) or in a container (console-getty).
TEST_F(GuestBoot, NoGettyWaitsOnTheConsole) {
  ASSERT_EQ(guest_->ssh("systemctl is-system-running --wait").out, "running\n");
  EXPECT_EQ(
      guest_->ssh("systemctl list-units --no-legend --all --state=active '*getty*.service'").out,
      "");
  EXPECT_EQ(
      guest_->ssh("systemctl is-enabled console-getty.service serial-getty@ttyS0.service").out,
      "masked\nmasked\n");
}

TEST_F(GuestBoot, RootIsTheOverlayAndRootsHomeIsTheWorkDisk) {
  EXPECT_EQ(guest_->ssh("findmnt -n -o FSTYPE /").out, "overlay\n");
  EXPECT_EQ(guest_->ssh("findmnt -n -o SOURCE /root").out, "/dev/vdc\n");
  EXPECT_EQ(guest_->ssh("stat -c %a:%U:%G /root").out, "755:root:root\n");
  EXPECT_EQ(guest_->ssh("findmnt -n -o OPTIONS /").out.find("redirect_dir"), std::string::npos)
      << "redirect_dir=off is the default and shows as nothing";
}

TEST_F(GuestBoot, NetworkHostnameAndResolvConfComeFromTheCommandLine) {
  EXPECT_NE(guest_->ssh("ip -o -4 addr show eth0").out.find("inet 10.78.0.2/24"),
            std::string::npos);
  EXPECT_EQ(guest_->ssh("ip route show default").out.rfind("default via 10.78.0.1 dev eth0", 0),
            0u);
  EXPECT_EQ(guest_->ssh("ip -o link show eth0 | grep -o \"mtu [0-9]*\"").out, "mtu 1400\n");
  // The host's segments are acknowledged at once: ssh's handshake waits on no delayed ACK.
  EXPECT_EQ(guest_->ssh("ip route show 10.78.0.0/24").out,
            "10.78.0.0/24 dev eth0 proto kernel scope link src 10.78.0.2 quickack 1 \n");
  EXPECT_EQ(guest_->ssh("hostname").out, "full-vm\n");
  EXPECT_EQ(guest_->ssh("cat /etc/hostname").out, "full-vm\n");
  // Its own name resolves from /etc/hosts, without asking DNS, and localhost stays.
  EXPECT_EQ(guest_->ssh("getent -s files hosts full-vm | tr -s \"[:blank:]\" \" \"").out,
            "127.0.1.1 full-vm\n");
  EXPECT_EQ(guest_->ssh("getent -s files ahostsv4 localhost | head -n1 | cut -d\" \" -f1").out,
            "127.0.0.1\n");
  EXPECT_EQ(guest_->ssh("grep ^nameserver /etc/resolv.conf").out,
            "nameserver 10.78.0.1\nnameserver 10.78.0.254\n");
  EXPECT_EQ(guest_->ssh("ping -c 1 -W 2 10.78.0.1 >/dev/null && echo reached").out, "reached\n");
}

TEST_F(GuestBoot, SshdTakesTheWorkDisksKeyWithStrictModesOn) {
  EXPECT_EQ(
      guest_->ssh("sshd -T | grep -E \"^(strictmodes|permitrootlogin|passwordauthentication) \"")
          .out,
      "permitrootlogin without-password\npasswordauthentication no\nstrictmodes yes\n");
  EXPECT_EQ(guest_->ssh("stat -c %a /root/.ssh /root/.ssh/authorized_keys").out, "700\n600\n");
  // Started early: after the filesystems and the host keys, not after all of sysinit,
  // neither directly nor through a unit it waits for.
  const std::string after =
      guest_->ssh("systemctl list-dependencies --after --all --plain --no-pager ssh.service").out;
  EXPECT_EQ(after.find("sysinit.target"), std::string::npos) << after;
  EXPECT_EQ(after.find("basic.target"), std::string::npos) << after;
  EXPECT_NE(after.find("banger-hostkeys.service"), std::string::npos) << after;
  // No image host key reached the VM: the fallback made its own at boot.
  EXPECT_EQ(
      guest_->ssh("systemctl is-active banger-hostkeys.service; ls /etc/ssh/ssh_host_ed25519_key")
          .out,
      "active\n/etc/ssh/ssh_host_ed25519_key\n");
}

TEST_F(GuestBoot, TheAgentAnswersHealthzAndListsSshdThroughVsock) {
  const Json health = healthOnce(*guest_, "running");
  ASSERT_EQ(health["systemd"], "running") << health.dump();
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["boot_id"].get<std::string>() + "\n",
            guest_->ssh("cat /proc/sys/kernel/random/boot_id").out);
  EXPECT_GT(health["uptime_sec"].get<double>(), 0.0);
  const Json ports = Json::parse(guest_->agent("/ports"));
  std::vector<std::string> sshd;
  for (const Json& port : ports["ports"])
    if (port["port"] == 22)
      sshd.push_back(port["proto"].get<std::string>() + " " + port["address"].get<std::string>() +
                     " " + port["process"].get<std::string>());
  EXPECT_EQ(sshd, (std::vector<std::string>{"tcp 0.0.0.0 sshd", "tcp :: sshd"})) << ports.dump();
  for (const Json& port : ports["ports"]) {
    if (port["port"] == 22) {
      EXPECT_EQ(std::to_string(port["pid"].get<int>()) + "\n", guest_->ssh("pgrep -o -x sshd").out);
    }
  }
}

TEST_F(GuestBoot, WritesLandOnTheOverlayAndWorkDisksAndNeverOnTheBase) {
  // Its metadata (superblock, group descriptors, inode tables: where a mount or a journal
  // replay would write) and its times stay as they were.
  const auto fingerprint = [&] {
    return shell("head -c 64M '" + guest_->base.string() + "' | sha256sum; stat -c %Y.%Z '" +
                 guest_->base.string() + "'")
        .out;
  };
  const std::string baseBefore = fingerprint();
  ASSERT_EQ(guest_
                ->ssh("echo changed > /etc/banger-marker && echo mine > /root/kept && "
                      "rm /etc/motd && sync")
                .status,
            0);
  ASSERT_EQ(guest_->sim->call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})").status,
            204);
  ASSERT_EQ(guest_->sim->wait(60s), 0) << guest_->console();
  EXPECT_EQ(fingerprint(), baseBefore);
  EXPECT_FALSE(Ext4Reader(guest_->base.string()).stat("/etc/banger-marker"));
  Ext4Reader overlay(guest_->overlay.string());
  EXPECT_EQ(overlay.read("/upper/etc/banger-marker"), "changed\n");
  EXPECT_EQ(overlay.stat("/upper/etc/motd")->mode & 0170000, 0020000u)  // a whiteout
      << "the deleted file is a character device 0/0 in the upper layer";
  EXPECT_EQ(Ext4Reader(guest_->work.string()).read("/kept"), "mine\n");
  // It boots again from the same disks, the changes still there.
  guest_->restart();
  ASSERT_TRUE(guest_->sshReady(120s)) << guest_->diagnostics();
  EXPECT_EQ(guest_->ssh("cat /etc/banger-marker /root/kept").out, "changed\nmine\n");
}

// scripts/kvm-smoke.sh, the check docs/guest.md asks for on a KVM host, run here with
// the simulator in Firecracker's place: it must pass wherever the boot set is sound.
TEST_F(GuestBoot, TheKvmSmokeTestPassesWithTheSimulatorAsFirecracker) {
  Command command({BANGER_SOURCE_DIR "/scripts/kvm-smoke.sh", FIRECRACKER_SIM_BIN});
  command.extraEnv = clientEnvironment();
  command.extraEnv["BANGER"] = BANGER_CLI_BIN;
  command.timeout = std::chrono::minutes(3);
  const ProcessResult result = SystemProcessRunner().run(command);
  EXPECT_EQ(result.exitCode, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("banger-init: / is the overlay of /dev/vdb over /dev/vda, /root is "
                            "/dev/vdc; starting /sbin/init"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("\"status\":\"ok\""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("kvm-smoke: PASS"), std::string::npos) << result.out;
}

// banger-init with a command line it cannot use: one console line, then the VM ends.
class BrokenBoot : public GuestFixture {
 protected:
  static void SetUpTestSuite() { GuestFixture::SetUpSuite(); }
  static void TearDownTestSuite() { GuestFixture::TearDownSuite(); }
  void SetUp() override {
    if (!skipReason().empty()) GTEST_SKIP() << skipReason();
  }
  // The one line banger-init printed, after the VM ended.
  static std::string failureLine(const std::string& name, const std::string& bootArgs) {
    std::unique_ptr<GuestVm> vm(bootBroken("debian-bookworm", name, bootArgs));
    EXPECT_EQ(vm->sim->wait(60s), 0) << "the VM did not end: " << vm->diagnostics();
    std::string lines;
    std::istringstream console(vm->console());
    for (std::string line; std::getline(console, line);)
      if (line.starts_with("banger-init:")) lines += line.substr(0, line.find('\r')) + "\n";
    return lines;
  }
};

TEST_F(BrokenBoot, AMissingDiskParameterIsNamed) {
  EXPECT_EQ(failureLine("no-work", "banger.base=/dev/vda banger.overlay=/dev/vdb"),
            "banger-init: command line: banger.work= is missing: no disk for it\n");
}

TEST_F(BrokenBoot, ABadAddressIsNamed) {
  EXPECT_EQ(failureLine("bad-ip",
                        "banger.base=/dev/vda banger.overlay=/dev/vdb "
                        "banger.work=/dev/vdc banger.ip=10.78.0.300/24"),
            "banger-init: command line: banger.ip=10.78.0.300/24: 10.78.0.300 is not an IPv4 "
            "address\n");
}

TEST_F(BrokenBoot, ADiskThatNeverAppearsIsNamedWithTheModulesThatDidNotLoad) {
  const std::string line =
      failureLine("no-disk", "banger.base=/dev/vda banger.overlay=/dev/vdb banger.work=/dev/vdd");
  EXPECT_EQ(line.rfind("banger-init: devices: /dev/vdd (banger.work=) did not appear within 10 s "
                       "(modules that did not load: ",
                       0),
            0u)
      << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}

// An OCI image with systemd but no sshd: banger's first-boot unit runs and says what it
// does (without NAT it cannot finish: apt-get has no network).
class FirstBoot : public GuestFixture {
 protected:
  static void SetUpTestSuite() {
    GuestFixture::SetUpSuite();
    if (!skipReason().empty()) return;
    guest_ = bootImage("nosshd", "bare-vm", "10.78.0.3");
  }
  static void TearDownTestSuite() {
    delete guest_;
    guest_ = nullptr;
    GuestFixture::TearDownSuite();
  }
  void SetUp() override {
    if (!skipReason().empty()) GTEST_SKIP() << skipReason();
  }
  static inline GuestVm* guest_ = nullptr;
};

TEST_F(FirstBoot, TheUnitStartsAndSaysItInstallsOpenSshWithApt) {
  EXPECT_TRUE(waitFor(
      [&] {
        return guest_->console().find(
                   "banger-first-boot: installing openssh-server with apt-get "
                   "(needs the network: a VM with NAT)") != std::string::npos;
      },
      120s))
      << guest_->diagnostics();
  EXPECT_TRUE(waitFor(
      [&] {
        return guest_->console().find("banger-first-boot: failed: this VM has no sshd") !=
               std::string::npos;
      },
      180s))
      << guest_->diagnostics();
  // The agent answers all the same, and reports the failed unit as systemd does.
  const Json health = healthOnce(*guest_, "degraded");
  EXPECT_EQ(health["systemd"], "degraded") << health.dump();
}

// A kernel with everything built in boots without an initrd: the kernel mounts the base
// disk and runs the image's own copy of banger-init as init=, which does the same work.
TEST_F(BrokenBoot, WithoutAnInitrdTheImagesBangerInitBootsIt) {
  std::unique_ptr<GuestVm> vm(
      bootBroken("debian-bookworm", "no-initrd",
                 "init=/usr/lib/banger/banger-init banger.base=/dev/vda banger.overlay=/dev/vdb "
                 "banger.work=/dev/vdc banger.hostname=no-initrd",
                 false));
  EXPECT_TRUE(waitFor(
      [&] {
        return vm->console().find(
                   "banger-init: / is the overlay of /dev/vdb over /dev/vda, /root "
                   "is /dev/vdc; starting /sbin/init") != std::string::npos;
      },
      60s))
      << vm->diagnostics();
  const Json health = healthOnce(*vm, "running");
  EXPECT_EQ(health["status"], "ok") << health.dump() << vm->diagnostics();
  EXPECT_EQ(health["systemd"], "running") << health.dump();
  ASSERT_EQ(vm->sim->call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})").status, 204);
  EXPECT_EQ(vm->sim->wait(60s), 0);
}

// An image without systemd: banger-init hands the boot to banger-first-boot, which says
// what it installs; without the network it cannot, and with no init to go on to the VM
// ends (the kernel's panic=1 resets it).
TEST_F(BrokenBoot, AnImageWithoutSystemdRunsFirstBootAsItsFirstProcess) {
  std::unique_ptr<GuestVm> vm(
      bootBroken("nosystemd", "no-systemd",
                 "banger.base=/dev/vda banger.overlay=/dev/vdb banger.work=/dev/vdc"));
  EXPECT_EQ(vm->sim->wait(120s), 0) << vm->diagnostics();
  const std::string console = vm->console();
  for (const char* line :
       {"banger-init: the image has no systemd; running /usr/lib/banger/banger-first-boot first",
        "banger-first-boot: installing openssh-server systemd-sysv with apt-get (needs the "
        "network: "
        "a VM with NAT)",
        "banger-first-boot: failed: this VM has no sshd and no init system.",
        "banger-first-boot: no init to start (/sbin/init); the VM stops"})
    EXPECT_NE(console.find(line), std::string::npos) << line << "\n" << console;
}

}  // namespace
}  // namespace banger::test
