// The Vm service end to end, as a user meets it: org.banger.Vm activated on the test's
// session bus, Net on its system bus (in a network namespace of the test's own), the
// default image and kernel registered with Image, and firecracker-sim as firecracker_bin,
// so the real guest boots and the service really reaches its agent and sshd. One suite,
// VmLifecycle, whose tests live in test_vm_lifecycle.cpp and test_vm_run.cpp.
#pragma once

#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "banger/files.h"
#include "guest_fixture.h"
#include "harness.h"

namespace banger::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using VariantMap = std::map<std::string, sdbus::Variant>;

inline constexpr const char* kVm = "org.banger.Vm";
inline constexpr const char* kMachine = "org.banger.Vm1.Machine";

class VmLifecycle : public GuestFixture {
 protected:
  static void SetUpTestSuite() {
    GuestFixture::SetUpSuite();
    if (!skipReason().empty()) return;
    BusHarness::Options options;
    options.isolateNetwork = true;
    harness_ = new BusHarness(options);
    const fs::path config = harness_->root() / "config";
    fs::create_directories(config);
    writeFile(config / "config.toml", std::string("firecracker_bin = \"") + FIRECRACKER_SIM_BIN +
                                          "\"\nssh_wait_sec = 120\n");
    const BootFiles files = defaultBootFiles();
    auto bus = harness_->connectSession();
    auto image = sdbus::createProxy(*bus, "org.banger.Image", "/org/banger/Image");
    sdbus::ObjectPath path;
    image->callMethod("ImportKernel")
        .onInterface("org.banger.Image1.Manager")
        .withTimeout(120s)
        .withArguments(VariantMap{{"name", sdbus::Variant(std::string("debian-cloud"))},
                                  {"vmlinux", sdbus::Variant(files.vmlinux)},
                                  {"initrd", sdbus::Variant(files.initrd)}})
        .storeResultsTo(path);
    image->callMethod("Register")
        .onInterface("org.banger.Image1.Manager")
        .withTimeout(300s)
        .withArguments(VariantMap{{"name", sdbus::Variant(std::string("debian-bookworm"))},
                                  {"rootfs", sdbus::Variant(files.rootfs)},
                                  {"kernel", sdbus::Variant(std::string("debian-cloud"))}})
        .storeResultsTo(path);
  }
  static void TearDownTestSuite() {
    // Firecracker outlives the service by design, so a test that stopped half-way would
    // leave its guest running on the machine; every one under this harness goes now.
    if (harness_) shell("pkill -KILL -f -- '--api-sock " + harness_->root().string() + "/'");
    delete harness_;
    harness_ = nullptr;
  }
  void SetUp() override {
    if (!skipReason().empty()) GTEST_SKIP() << skipReason();
    bus_ = harness_->connectSession();
    manager_ = sdbus::createProxy(*bus_, kVm, "/org/banger/Vm");
  }

  void TearDown() override {
    // The daemons' own words (they log to the session bus's log) say why a test failed.
    if (HasFailure() && harness_)
      std::cerr
          << "--- the services' log ---\n"
          << shell("tail -n 60 '" + (harness_->root() / "session-bus.log").string() + "'").out;
  }

  // Waits for a Vm job to end; its state, with the error message after a ": ".
  std::string waitJob(const sdbus::ObjectPath& job) {
    auto proxy = sdbus::createProxy(*bus_, kVm, job);
    std::string state = "running";
    const auto deadline = std::chrono::steady_clock::now() + 300s;
    while (state == "running" && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      state = proxy->getProperty("State").onInterface("org.banger.Job1").get<std::string>();
    }
    if (state == "succeeded") return state;
    return state + ": " +
           proxy->getProperty("ErrorMessage").onInterface("org.banger.Job1").get<std::string>();
  }
  // CreateVm with `spec`: the machine and its job.
  std::pair<sdbus::ObjectPath, sdbus::ObjectPath> createVm(const VariantMap& spec) {
    sdbus::ObjectPath machine, job;
    manager_->callMethod("CreateVm")
        .onInterface("org.banger.Vm1.Manager")
        .withArguments(spec)
        .storeResultsTo(machine, job);
    return {machine, job};
  }
  template <class T>
  T machineProperty(const sdbus::ObjectPath& machine, const std::string& name) {
    return sdbus::createProxy(*bus_, kVm, machine)
        ->getProperty(name)
        .onInterface(kMachine)
        .get<T>();
  }
  sdbus::ObjectPath call(const sdbus::ObjectPath& machine, const std::string& method,
                         std::optional<VariantMap> options = VariantMap{}) {
    sdbus::ObjectPath job;
    auto proxy = sdbus::createProxy(*bus_, kVm, machine);
    if (options)
      proxy->callMethod(method)
          .onInterface(kMachine)
          .withTimeout(60s)
          .withArguments(*options)
          .storeResultsTo(job);
    else
      proxy->callMethod(method).onInterface(kMachine).withTimeout(60s).storeResultsTo(job);
    return job;
  }
  // `command` over SSH in the daemons' namespace, with banger's own ssh_config only.
  // ConnectTimeout covers the banner too, which the guest's sshd sends only after it has
  // re-executed itself: seconds under a loaded CI machine, so the wait is generous.
  Shell ssh(const std::string& host, const std::string& command) {
    const fs::path config = harness_->root() / "config" / "ssh_config";
    return shell("nsenter --net=/run/netns/" + harness_->netns() + " ssh -F '" + config.string() +
                 "' -o BatchMode=yes -o ConnectTimeout=30 " + host + " '" + command + "' 2>&1");
  }
  bool exists(const std::string& name) {
    try {
      sdbus::ObjectPath path;
      manager_->callMethod("FindMachine")
          .onInterface("org.banger.Vm1.Manager")
          .withArguments(name)
          .storeResultsTo(path);
      return true;
    } catch (const sdbus::Error& error) {
      EXPECT_EQ(error.getName(), "org.banger.Error.NotFound");
      return false;
    }
  }
  std::vector<std::string> leasedIds() {
    auto system = harness_->connectSystem();
    std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string, bool>> leases;
    sdbus::createProxy(*system, "org.banger.Net", "/org/banger/Net")
        ->callMethod("ListLeases")
        .onInterface("org.banger.Net1.Manager")
        .storeResultsTo(leases);
    std::vector<std::string> ids;
    for (const auto& lease : leases) ids.push_back(std::get<1>(lease));
    return ids;
  }
  // The banger CLI as the user runs it, in the daemons' namespace; its output and stderr.
  // One of the guest fixture's test images ("nosshd", "denyroot"), registered with Image
  // under its own name, with the default kernel.
  void registerTestImage(const std::string& name) {
    auto image = sdbus::createProxy(*bus_, "org.banger.Image", "/org/banger/Image");
    sdbus::ObjectPath registered;
    image->callMethod("Register")
        .onInterface("org.banger.Image1.Manager")
        .withTimeout(300s)
        .withArguments(VariantMap{{"name", sdbus::Variant(name)},
                                  {"rootfs", sdbus::Variant(imageRootfs(name))},
                                  {"kernel", sdbus::Variant(std::string("debian-cloud"))}})
        .storeResultsTo(registered);
  }
  Shell banger(const std::string& args) {
    std::string env;
    for (const auto& [key, value] : harness_->clientEnvironment()) env += key + "='" + value + "' ";
    return shell("nsenter --net=/run/netns/" + harness_->netns() + " env " + env + BANGER_CLI_BIN +
                 " " + args + " 2>&1");
  }
  std::string consoleOf(const std::string& id) {
    return readFile(harness_->root() / "state" / "vm" / "machines" / id / "console.log");
  }

  static inline BusHarness* harness_ = nullptr;
  std::unique_ptr<sdbus::IConnection> bus_;
  std::unique_ptr<sdbus::IProxy> manager_;
};

}  // namespace banger::test
