// firecracker-sim: Firecracker v1.16.1's API and process (the core shared with
// firecracker-fake) with a guest that is the image's own userspace run in namespaces
// (tests/fakes/sim/*.h, GUEST-SIMULATOR.md). Runs as root.
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "banger/files.h"
#include "core/firecracker_main.h"
#include "core/host_resources.h"
#include "guest_network.h"
#include "guest_process.h"
#include "loop_devices.h"
#include "syscall_supervisor.h"

namespace fcfake::sim {
namespace {

// The kernel's own words when PID 1 dies; with panic=N (N > 0) and reboot=k the VM
// resets and Firecracker exits 0, otherwise the guest stays halted.
bool panicReboots(const std::string& commandLine) {
  std::size_t at = commandLine.find("panic=");
  if (at == std::string::npos) return false;
  return std::atoi(commandLine.c_str() + at + 6) != 0;
}

long long monotonicNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000000000LL + now.tv_nsec;
}

// The simulator's InstanceStart does the guest kernel's part of a boot (the initrd
// unpacked, namespaces, nspawn) before it answers. A benchmark that counts the stand-in's
// boot apart from banger's own time names a file in FIRECRACKER_SIM_START_TIMES; each
// start appends "<instance id> <began> <ended>" there (CLOCK_MONOTONIC, ns) in one write.
void recordStartTime(const std::string& instanceId, long long began) {
  const char* file = getenv("FIRECRACKER_SIM_START_TIMES");
  if (file == nullptr || *file == '\0') return;
  const std::string line =
      instanceId + " " + std::to_string(began) + " " + std::to_string(monotonicNs()) + "\n";
  const int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  [[maybe_unused]] ssize_t n = write(fd, line.data(), line.size());
  close(fd);
}

class SimBackend : public Backend {
 public:
  explicit SimBackend(std::string nspawn) : nspawn_(std::move(nspawn)) {}

  void start(VmConfig& config, std::function<void(int)> exit) override {
    const long long began = monotonicNs();
    exit_ = std::move(exit);
    commandLine_ = config.kernelCommandLine(false);
    console_ = openConsole(config);
    disks_ = attachDrives(config);
    if (!config.bootSource->initrd && disks_.empty())
      throw ApiError("Cannot boot without an initrd or a root drive");
    network_ = std::make_unique<GuestNetwork>(config.networkInterfaces);
    GuestPlan plan;
    plan.machineName = config.instanceId;
    plan.commandLine = commandLine_;
    plan.initrdFd = config.bootSource->initrd ? config.bootSource->initrd.get() : -1;
    plan.disks = &disks_;
    plan.netnsFd = network_->namespaceFd();
    plan.consoleFd = console_.get();
    plan.memSizeMib = config.machine.memSizeMib;
    plan.nspawnBinary = nspawn_;
    UniqueFd listener;
    guest_ = std::make_unique<GuestProcess>(plan, listener);
    supervisor_ = std::make_unique<SyscallSupervisor>(
        std::move(listener), config.vsock ? config.vsock->udsPath : "", nspawn_);
    watcher_ = std::thread([this] { watch(); });
    recordStartTime(config.instanceId, began);
  }

  void sendCtrlAltDel() override {
    // What the kernel does with Ctrl-Alt-Del: SIGINT to PID 1.
    if (const auto init = guest_->guestInit()) ::kill(*init, SIGINT);
  }

  void setPaused(bool) override {
    throw ApiError("The requested operation is not supported: pausing a simulated guest");
  }

  void terminate() override {
    std::lock_guard lock(terminating_);
    if (guest_) guest_->kill();
    if (watcher_.joinable() && watcher_.get_id() != std::this_thread::get_id()) watcher_.join();
  }

 private:
  void watch() {
    const int status = guest_->wait();
    // nspawn: 0 after the guest powered off, 133 after it rebooted (Firecracker exits 0 on
    // the guest's reset either way). Anything else: PID 1 died.
    if (status == 0 || status == 133) return exit_(kExitOk);
    if (status >= 128 && status - 128 == SIGKILL) return;  // killed by terminate()
    const std::string panic =
        "[    0.000000] Kernel panic - not syncing: Attempted to kill init! "
        "exitcode=0x" +
        hex(status << 8) + "\n";
    [[maybe_unused]] ssize_t n = write(console_.get(), panic.data(), panic.size());
    if (panicReboots(commandLine_)) exit_(kExitOk);
  }
  static std::string hex(int value) {
    char text[16];
    std::snprintf(text, sizeof text, "%08x", value);
    return text;
  }

  std::string nspawn_;
  std::function<void(int)> exit_;
  std::string commandLine_;
  UniqueFd console_;
  std::vector<LoopDevice> disks_;
  std::unique_ptr<GuestNetwork> network_;
  std::unique_ptr<GuestProcess> guest_;
  std::unique_ptr<SyscallSupervisor> supervisor_;
  std::thread watcher_;
  std::mutex terminating_;
};

}  // namespace
}  // namespace fcfake::sim

int main(int argc, char** argv) {
  using namespace fcfake;
  return firecrackerMain(argc, argv, {}, [](const RunOptions&) -> std::unique_ptr<Backend> {
    if (geteuid() != 0) throw std::runtime_error("firecracker-sim must run as root");
    const char* path = getenv("PATH");
    const std::string nspawn =
        banger::findExecutable("systemd-nspawn", path ? path : "/usr/bin:/bin");
    if (nspawn.empty())
      throw std::runtime_error("systemd-nspawn is not installed (package systemd-container)");
    return std::make_unique<sim::SimBackend>(nspawn);
  });
}
