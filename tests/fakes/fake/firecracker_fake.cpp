// firecracker-fake: Firecracker v1.16.1's API and process, with no guest. What happens at
// InstanceStart is chosen per test, by an argument (through a wrapper named as
// firecracker_bin) or by a JSON file beside the API socket, "<api-sock>.fake.json":
//   --fake-on-start run|crash|reboot  {"on_start": ...}  run (default): stay up until
//       SendCtrlAltDel (then exit 0, as on the guest's reset) or a signal; crash: exit 1
//       (a VMM failure); reboot: exit 0 (the guest reset itself, e.g. a panic with reboot=k)
//       no_kvm: InstanceStart fails as Firecracker fails without access to /dev/kvm
//   --fake-console TEXT               {"console": ...}   written to the console at start
//   --fake-delay-ms N                 {"delay_ms": N}    before crash/reboot happen
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/firecracker_main.h"
#include "core/host_resources.h"
#include "core/spec.h"

namespace {

using namespace fcfake;

struct Behaviour {
  std::string onStart = "run";
  std::string console;
  int delayMs = 50;
};

class FakeBackend : public Backend {
 public:
  explicit FakeBackend(Behaviour behaviour) : behaviour_(std::move(behaviour)) {}

  void start(VmConfig& config, std::function<void(int)> exit) override {
    // Firecracker's own words (vstate/kvm.rs) when it cannot open /dev/kvm.
    if (behaviour_.onStart == "no_kvm")
      throw ApiError(
          "Kvm error: Error creating KVM object: Permission denied (os error 13) Make sure the "
          "user launching the firecracker process is configured on the /dev/kvm file's ACL.");
    if (behaviour_.onStart != "run" && behaviour_.onStart != "crash" &&
        behaviour_.onStart != "reboot")
      throw ApiError("Internal error while starting microVM: unknown fake behaviour '" +
                     behaviour_.onStart + "'");
    console_ = openConsole(config);
    exit_ = std::move(exit);
    const std::string text = behaviour_.console;
    const int fd = console_.get();
    if (!text.empty()) [[maybe_unused]]
      ssize_t n = write(fd, text.data(), text.size());
    if (behaviour_.onStart == "run") return;
    const int code = behaviour_.onStart == "crash" ? kExitGeneric : kExitOk;
    std::thread([this, code] {
      std::this_thread::sleep_for(std::chrono::milliseconds(behaviour_.delayMs));
      exit_(code);
    }).detach();
  }
  void sendCtrlAltDel() override {
    std::thread([this] {
      std::this_thread::sleep_for(std::chrono::milliseconds(behaviour_.delayMs));
      exit_(kExitOk);
    }).detach();
  }
  void setPaused(bool) override {}

 private:
  Behaviour behaviour_;
  UniqueFd console_;
  std::function<void(int)> exit_;
};

Behaviour behaviourFor(const RunOptions& options) {
  Behaviour behaviour;
  std::ifstream file(options.apiSock + ".fake.json");
  if (file) {
    const Json json = Json::parse(file);
    behaviour.onStart = json.value("on_start", behaviour.onStart);
    behaviour.console = json.value("console", behaviour.console);
    behaviour.delayMs = json.value("delay_ms", behaviour.delayMs);
  }
  if (auto it = options.extra.find("fake-on-start"); it != options.extra.end())
    behaviour.onStart = it->second;
  if (auto it = options.extra.find("fake-console"); it != options.extra.end())
    behaviour.console = it->second;
  if (auto it = options.extra.find("fake-delay-ms"); it != options.extra.end())
    behaviour.delayMs = std::stoi(it->second);
  return behaviour;
}

}  // namespace

int main(int argc, char** argv) {
  return firecrackerMain(argc, argv, {"fake-on-start", "fake-console", "fake-delay-ms"},
                         [](const RunOptions& options) {
                           return std::make_unique<FakeBackend>(behaviourFor(options));
                         });
}
