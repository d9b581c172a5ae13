// The Vm service's control plane: CreateVm with the image local (start=false: resolve →
// image → lease → disks; and booted with firecracker-fake, which answers at once: up to
// the moment banger starts waiting for the guest's agent), a 16 GiB image against a 1 GiB
// one, `banger vm list` with 100 machines against the same data
// through raw `busctl call`, and banger-vm's resident memory holding them.
#include <sdbus-c++/sdbus-c++.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <sstream>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "banger/ext4/image_builder.h"
#include "banger/process.h"
#include "bench_support.h"
#include "fake_module.h"
#include "harness.h"
#include "tar_builder.h"

using namespace banger;
using namespace banger::test;
using Clock = std::chrono::steady_clock;
using VariantMap = std::map<std::string, sdbus::Variant>;

namespace {

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

// The Vm service's Job1 signals, timestamped as they arrive on a connection of their own:
// a create is timed without polling its job, which would load the very service timed.
class JobSignals {
 public:
  struct Event {
    std::string member;  // StageChanged or Finished
    std::string value;   // the stage, or the final state
    Clock::time_point at;
  };

  explicit JobSignals(std::unique_ptr<sdbus::IConnection> bus) : bus_(std::move(bus)) {
    slot_ = bus_->addMatch("type='signal',sender='org.banger.Vm',interface='org.banger.Job1'",
                           [this](sdbus::Message& message) {
                             Event event{message.getMemberName(), "", Clock::now()};
                             message >> event.value;
                             std::lock_guard lock(mutex_);
                             events_[message.getPath()].push_back(std::move(event));
                             arrived_.notify_all();
                           });
    bus_->enterEventLoopAsync();
  }
  ~JobSignals() { bus_->leaveEventLoop(); }

  // The job's events up to the first that `last` picks; throws when it ends otherwise.
  std::vector<Event> awaitEvent(const std::string& job,
                                const std::function<bool(const Event&)>& last) {
    std::unique_lock lock(mutex_);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      const std::vector<Event>& seen = events_[job];
      for (std::size_t i = 0; i < seen.size(); ++i) {
        if (last(seen[i])) return {seen.begin(), seen.begin() + static_cast<long>(i) + 1};
        if (seen[i].member == "Finished") throw std::runtime_error(job + " ended " + seen[i].value);
      }
      if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout)
        throw std::runtime_error(job + ": no signal within 60 s");
    }
  }

 private:
  std::unique_ptr<sdbus::IConnection> bus_;
  sdbus::Slot slot_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, std::vector<Event>> events_;
};

// A small rootfs in an ext4 of `bytes` (sparse), registered as `name`.
void registerImage(sdbus::IConnection& bus, const std::filesystem::path& dir,
                   const std::string& name, uint64_t bytes) {
  const std::string tar = TarBuilder()
                              .dir("root", 0700)
                              .file("root/.bashrc", "PS1=x\n")
                              .dir("etc", 0755)
                              .file("etc/os-release", "ID=debian\n")
                              .bytes();
  const std::string path = (dir / (name + ".ext4")).string();
  ext4::FormatOptions format;
  format.sizeBytes = bytes;
  ext4::Volume volume(path, format);
  ext4::ImageBuilder builder(volume, {});
  auto reader = ext4::TarReader::openMemory(tar.data(), tar.size(), name);
  builder.addLayer(*reader);
  builder.finish();
  sdbus::ObjectPath image;
  sdbus::createProxy(bus, "org.banger.Image", "/org/banger/Image")
      ->callMethod("Register")
      .onInterface("org.banger.Image1.Manager")
      .withTimeout(std::chrono::minutes(5))
      .withArguments(VariantMap{{"name", sdbus::Variant(name)},
                                {"rootfs", sdbus::Variant(path)},
                                {"kernel", sdbus::Variant(std::string("debian-cloud"))}})
      .storeResultsTo(image);
}

struct CreateTimes {
  std::vector<double> reply;  // CreateVm's answer (the machine object exists)
  std::vector<double> job;    // the job's end
};

CreateTimes createMany(sdbus::IConnection& bus, JobSignals& signals, const std::string& image,
                       const std::string& prefix, int count) {
  auto vm = sdbus::createProxy(bus, "org.banger.Vm", "/org/banger/Vm");
  CreateTimes times;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    sdbus::ObjectPath machine, job;
    vm->callMethod("CreateVm")
        .onInterface("org.banger.Vm1.Manager")
        .withArguments(VariantMap{{"name", sdbus::Variant(prefix + std::to_string(i))},
                                  {"image", sdbus::Variant(image)},
                                  {"disk_bytes", sdbus::Variant(uint64_t{8} << 30)},
                                  {"start", sdbus::Variant(false)}})
        .storeResultsTo(machine, job);
    times.reply.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    const auto events = signals.awaitEvent(job, [](const JobSignals::Event& event) {
      return event.member == "Finished" && event.value == "succeeded";
    });
    times.job.push_back(
        std::chrono::duration<double, std::milli>(events.back().at - start).count());
  }
  return times;
}

// CreateVm booted on firecracker-fake, timed until the job reaches `agent` (Firecracker
// started, configured and its InstanceStart answered: all of banger's part before the
// guest). No guest answers there, so the job is then canceled and the machine deleted.
struct BootTimes {
  std::vector<double> total;
  std::map<std::string, std::vector<double>> stages;  // ms in each stage, from its signals
};

BootTimes bootMany(sdbus::IConnection& bus, JobSignals& signals, const std::string& image,
                   int count) {
  auto vm = sdbus::createProxy(bus, "org.banger.Vm", "/org/banger/Vm");
  BootTimes times;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    sdbus::ObjectPath machine, job;
    vm->callMethod("CreateVm")
        .onInterface("org.banger.Vm1.Manager")
        .withArguments(VariantMap{{"name", sdbus::Variant("booted-" + std::to_string(i))},
                                  {"image", sdbus::Variant(image)}})
        .storeResultsTo(machine, job);
    const auto replied = Clock::now();
    const auto events = signals.awaitEvent(job, [](const JobSignals::Event& event) {
      return event.member == "StageChanged" && event.value == "agent";
    });
    // Each stage lasts until the next begins; a stage may report several times.
    std::map<std::string, double> spent;
    for (std::size_t e = 0; e + 1 < events.size(); ++e)
      spent[events[e].value] +=
          std::chrono::duration<double, std::milli>(events[e + 1].at - events[e].at).count();
    spent["reply"] = std::chrono::duration<double, std::milli>(replied - start).count();
    for (const auto& [stage, ms] : spent) times.stages[stage].push_back(ms);
    times.total.push_back(
        std::chrono::duration<double, std::milli>(events.back().at - start).count());
    sdbus::createProxy(bus, "org.banger.Vm", job)
        ->callMethod("Cancel")
        .onInterface("org.banger.Job1");
    signals.awaitEvent(job,
                       [](const JobSignals::Event& event) { return event.member == "Finished"; });
    sdbus::ObjectPath deleted;
    sdbus::createProxy(bus, "org.banger.Vm", machine)
        ->callMethod("Delete")
        .onInterface("org.banger.Vm1.Machine")
        .withArguments(VariantMap{})
        .storeResultsTo(deleted);
    signals.awaitEvent(deleted, [](const JobSignals::Event& event) {
      return event.member == "Finished" && event.value == "succeeded";
    });
  }
  return times;
}

double timeCommand(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env, int runs,
                   std::string* output = nullptr) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    Command command(argv);
    command.extraEnv = env;
    const auto start = Clock::now();
    const ProcessResult result = SystemProcessRunner().run(command);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!result.ok()) throw std::runtime_error(argv[0] + " failed: " + result.err);
    if (output) *output = result.out;
  }
  return bench::median(times);
}

// Resident memory as `ps` shows it (RSS); the anonymous part of it (the heap, stacks,
// library data written at load), which is this process's own cost; the rest are pages of
// shared libraries' files, in the page cache once for every process that maps them; and
// PSS, each shared page divided among the processes that map it.
struct Memory {
  long rss = 0, anonymous = 0, pss = 0;
  void print(const char* when) const {
    std::printf("  %-20s RSS %5.1f MiB, anonymous %5.1f MiB, PSS %5.1f MiB\n", when,
                static_cast<double>(rss) / 1024.0, static_cast<double>(anonymous) / 1024.0,
                static_cast<double>(pss) / 1024.0);
  }
};

Memory memoryOf(pid_t pid) {
  Memory memory;
  std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  long kib;
  std::string line;
  while (std::getline(rollup, line)) {
    std::istringstream fields(line);
    if (!(fields >> key >> kib)) continue;
    if (key == "Rss:") memory.rss = kib;
    if (key == "Pss:") memory.pss = kib;
    if (key == "Anonymous:") memory.anonymous = kib;
  }
  return memory;
}

}  // namespace

int main() {
  if (geteuid() != 0) {
    std::printf("bench-vm: skipped: Net's bridge and TAPs need root (in a namespace of its own)\n");
    return 0;
  }
  TempDir work;
  BusHarness::Options options;
  options.isolateNetwork = true;
  options.idleTimeoutSec = 0;
  BusHarness harness(options);
  std::filesystem::create_directories(harness.root() / "config");
  writeFile(harness.root() / "config" / "config.toml",
            std::string("firecracker_bin = \"") + FIRECRACKER_FAKE_BIN + "\"\n");
  auto bus = harness.connectSession();
  JobSignals signals(harness.connectSession());
  // The kernel is never booted here: the smallest vmlinux the Image service accepts.
  writeFile(work.path() / "vmlinux", fakeVmlinux(true));
  sdbus::ObjectPath kernel;
  sdbus::createProxy(*bus, "org.banger.Image", "/org/banger/Image")
      ->callMethod("ImportKernel")
      .onInterface("org.banger.Image1.Manager")
      .withArguments(VariantMap{{"name", sdbus::Variant(std::string("debian-cloud"))},
                                {"vmlinux", sdbus::Variant((work.path() / "vmlinux").string())}})
      .storeResultsTo(kernel);
  registerImage(*bus, work.path(), "small", 1ull << 30);
  registerImage(*bus, work.path(), "large", 16ull << 30);

  createMany(*bus, signals, "small", "warm-", 2);
  // Alternating, so the two images meet the same number of existing machines.
  CreateTimes small, large;
  for (int i = 0; i < 49; ++i) {
    const CreateTimes s = createMany(*bus, signals, "small", "s" + std::to_string(i) + "-", 1);
    const CreateTimes l = createMany(*bus, signals, "large", "l" + std::to_string(i) + "-", 1);
    small.reply.push_back(s.reply[0]);
    small.job.push_back(s.job[0]);
    large.reply.push_back(l.reply[0]);
    large.job.push_back(l.job[0]);
  }

  bootMany(*bus, signals, "small", 2);
  const BootTimes booted = bootMany(*bus, signals, "small", 50);

  const auto env = harness.clientEnvironment();
  std::string listed;
  const double ours = timeCommand({BANGER_CLI_BIN, "vm", "list"}, env, 15, &listed);
  const double theirs = timeCommand({"busctl", "--user", "call", "org.banger.Vm", "/org/banger/Vm",
                                     "org.banger.Vm1.Manager", "ListMachines"},
                                    env, 15);
  const long lines = std::count(listed.begin(), listed.end(), '\n');
  const pid_t service = nameOwnerPid(*bus, "org.banger.Vm");
  std::this_thread::sleep_for(std::chrono::seconds(12));
  const Memory afterCreates = memoryOf(service);
  // A new banger-vm (as after a reboot or an idle exit) adopting the same 100 records.
  kill(service, SIGTERM);
  while (kill(service, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  sdbus::createProxy(*bus, "org.banger.Vm", "/org/banger/Vm")
      ->callMethod("ListMachines")
      .onInterface("org.banger.Vm1.Manager");
  const pid_t restarted = nameOwnerPid(*bus, "org.banger.Vm");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Memory afterRestart = memoryOf(restarted);

  std::printf("bench-vm: CreateVm (start=false, image local), 49 creates of a 1 GiB image:\n");
  std::printf("  reply     p50 %6.2f ms  p95 %6.2f ms\n", percentile(small.reply, 0.5),
              percentile(small.reply, 0.95));
  std::printf("  job done  p50 %6.2f ms  p95 %6.2f ms\n", percentile(small.job, 0.5),
              percentile(small.job, 0.95));
  std::printf(
      "  booted on firecracker-fake, 50 creates, until banger waits for the guest's agent:\n"
      "            p50 %6.2f ms  p95 %6.2f ms   (target p50 <= 20 ms)\n",
      percentile(booted.total, 0.5), percentile(booted.total, 0.95));
  std::printf("            by stage, p50:");
  for (const auto& [stage, values] : booted.stages)
    std::printf(" %s %.1f ms", stage.c_str(), percentile(values, 0.5));
  std::printf("\n");
  std::printf("  16 GiB image: job done p50 %6.2f ms = %.2fx the 1 GiB image (target <= 1.10x)\n",
              percentile(large.job, 0.5), percentile(large.job, 0.5) / percentile(small.job, 0.5));
  std::printf(
      "bench-vm: vm list with %ld machines: banger %.1f ms, busctl call %.1f ms, ratio "
      "%.2f (target <= 1.3)\n",
      lines, ours, theirs, ours / theirs);
  std::printf("bench-vm: banger-vm idle, holding %ld machines (target RSS <= 8 MiB):\n", lines);
  afterCreates.print("after creating them");
  afterRestart.print("started afresh");
  return 0;
}
