// firecracker-sim booting from an initrd, as banger's VMs boot: the cpio is unpacked
// afresh on every boot and its /init (or rdinit=) is PID 1 with the boot args as
// /proc/cmdline and the drives as /dev/vd*; a powered-off guest ends the simulator with
// 0, and an init that dies panics the "kernel" — a reset with panic=N, a halt without.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "sim_image.h"
#include "stand_in.h"

#ifndef INIT_PROBE_BIN
#error "INIT_PROBE_BIN must name the static init-probe binary"
#endif

namespace fcfake::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

// A newc cpio with init-probe at /init and at /sbin/other-init, as banger's initrd holds
// banger-init.
void writeInitrd(const fs::path& path) {
  const std::string init = banger::test::readFile(INIT_PROBE_BIN);
  archive* out = archive_write_new();
  archive_write_set_format_cpio_newc(out);
  ASSERT_EQ(archive_write_open_filename(out, path.c_str()), ARCHIVE_OK);
  const auto add = [&](const char* name, mode_t type, mode_t mode, const std::string& data) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name);
    archive_entry_set_filetype(entry, type);
    archive_entry_set_perm(entry, mode);
    archive_entry_set_size(entry, static_cast<la_int64_t>(data.size()));
    ASSERT_EQ(archive_write_header(out, entry), ARCHIVE_OK) << archive_error_string(out);
    if (!data.empty()) {
      ASSERT_EQ(archive_write_data(out, data.data(), data.size()),
                static_cast<la_ssize_t>(data.size()));
    }
    archive_entry_free(entry);
  };
  add("dev", AE_IFDIR, 0755, "");
  add("sbin", AE_IFDIR, 0755, "");
  add("init", AE_IFREG, 0755, init);
  add("sbin/other-init", AE_IFREG, 0755, init);
  ASSERT_EQ(archive_write_close(out), ARCHIVE_OK);
  archive_write_free(out);
}

class SimInitrd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = simUnavailable(); !why.empty()) GTEST_SKIP() << why;
    writeInitrd(temp_.path() / "initrd.img");
    banger::test::writeFile(temp_.path() / "disk.img", "");
    fs::resize_file(temp_.path() / "disk.img", 1 << 20);
  }

  // A simulator in <temp>/<name> booted from the initrd with `bootArgs` and one
  // read-only root drive.
  std::unique_ptr<StandIn> boot(const std::string& name, const std::string& bootArgs) {
    const fs::path dir = temp_.path() / name;
    auto sim =
        std::make_unique<StandIn>(FIRECRACKER_SIM_BIN, dir, std::vector<std::string>{}, name);
    const auto put = [&](const std::string& path, const Json& body) {
      const ApiAnswer answer = sim->call("PUT", path, body.dump());
      EXPECT_EQ(answer.status, 204) << path << ": " << answer.body;
    };
    put("/boot-source", {{"kernel_image_path", writeFakeKernel(dir).string()},
                         {"initrd_path", (temp_.path() / "initrd.img").string()},
                         {"boot_args", bootArgs}});
    put("/drives/rootfs", {{"drive_id", "rootfs"},
                           {"path_on_host", (temp_.path() / "disk.img").string()},
                           {"is_root_device", true},
                           {"is_read_only", true}});
    put("/actions", {{"action_type", "InstanceStart"}});
    return sim;
  }

  banger::test::TempDir temp_;
};

TEST_F(SimInitrd, ItsInitIsPid1WithTheBootArgsAndAFreshCopyOnEveryBoot) {
  for (const std::string name : {"first", "second"}) {
    const auto sim = boot(name, "console=ttyS0 reboot=k panic=1");
    EXPECT_EQ(sim->wait(30s), 0) << banger::test::readFile(sim->dir() / "stderr.out");
    EXPECT_EQ(sim->console(),
              "init /init pid 1\r\n"
              "cmdline console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda ro\r\n"
              "marker absent\r\n"
              "vda present\r\n")
        << name << " boot; stderr: " << banger::test::readFile(sim->dir() / "stderr.out");
    EXPECT_FALSE(fs::exists("/run/systemd/nspawn/propagate/" + name));  // nspawn's state
  }
}

TEST_F(SimInitrd, RdinitChoosesAnotherInit) {
  const auto sim = boot("rdinit", "console=ttyS0 rdinit=/sbin/other-init");
  EXPECT_EQ(sim->wait(30s), 0) << banger::test::readFile(sim->dir() / "stderr.out");
  EXPECT_EQ(sim->console().rfind("init /sbin/other-init pid 1\r\n", 0), 0u) << sim->console();
}

TEST_F(SimInitrd, AnInitThatDiesPanicsAndPanicEqualsNResetsTheVm) {
  const std::string panic =
      "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300\n";
  const auto resets = boot("resets", "console=ttyS0 reboot=k panic=1 probe.exit=3");
  EXPECT_EQ(resets->wait(30s), 0);
  EXPECT_NE(resets->console().find(panic), std::string::npos) << resets->console();
  // Without panic=N the kernel halts: Firecracker stays up until it is killed.
  const auto halts = boot("halts", "console=ttyS0 probe.exit=3");
  EXPECT_TRUE(
      banger::test::waitFor([&] { return halts->console().find(panic) != std::string::npos; }, 30s))
      << halts->console();
  EXPECT_FALSE(halts->wait(2s));
  EXPECT_EQ(halts->call("GET", "/").status, 200);
  halts->kill(SIGTERM);
  EXPECT_EQ(halts->wait(10s), 128 + SIGTERM);
}

}  // namespace
}  // namespace fcfake::test
