#include <unistd.h>

#include <iostream>

#include "banger/size.h"
#include "banger/vm_name.h"
#include "job_watch.h"
#include "vm_commands.h"

namespace banger::cli {

void SpecFlags::add(CLI::App* sub, bool withName) {
  if (withName) sub->add_option("--name", name, "VM name (a DNS label; generated when absent)");
  sub->add_option("--image", image, "Image to boot (default: default_image or debian-bookworm)");
  sub->add_option("--vcpu", vcpus, "Number of vCPUs")->check(CLI::Range(1, 32));
  sub->add_option("--memory", memoryMib, "Memory in MiB")->check(CLI::Range(128, 1 << 20));
  sub->add_option("--disk-size", diskSize, "Work disk size, e.g. 8G");
  sub->add_flag("--nat", nat, "Give the VM outbound internet access through NAT");
}

VmSpec SpecFlags::overrides() const {
  VmSpec o;
  if (!name.empty()) {
    if (auto problem = vmNameProblem(name); !problem.empty())
      throw CLI::ValidationError("--name", "'" + name + "' is not a VM name: " + problem);
    o.name = name;
  }
  if (!image.empty()) o.image = image;
  if (!kernel.empty()) o.kernel = kernel;
  if (vcpus) o.vcpus = vcpus;
  if (memoryMib) o.memoryMib = memoryMib;
  if (!diskSize.empty()) {
    o.diskBytes = parseSize(diskSize);
    if (!o.diskBytes)
      throw CLI::ValidationError("--disk-size", "'" + diskSize + "' is not a size like 8G");
  }
  if (nat) o.nat = true;
  return o;
}

void printJob(const sdbus::ObjectPath& job) { std::cout << "job " << std::string(job) << "\n"; }

namespace {

struct CreateOptions {
  SpecFlags spec;
  bool noStart = false;
};

}  // namespace

JobEnd followJob(JobWatcher& watcher, const sdbus::ObjectPath& job, const std::string& what,
                 std::chrono::milliseconds limit) {
  const JobEnd end = watcher.follow(job, std::cout, isatty(STDOUT_FILENO) != 0, limit);
  if (!end.succeeded())
    std::cerr << "banger: " << what << ": "
              << (end.errorMessage.empty() ? end.state : end.errorMessage) << "\n";
  return end;
}

Created createMachine(Context& ctx, VmSpec overrides) {
  JobWatcher watcher(ctx.buses.user(), names::kVmBus, names::kVmPath);
  return createMachine(ctx, std::move(overrides), watcher, {});
}

Created createMachine(Context& ctx, VmSpec overrides, JobWatcher& watcher,
                      const std::function<void(const sdbus::ObjectPath&)>& whileCreating) {
  startWithoutWaiting(ctx.buses.user(), names::kImageBus);
  auto vm = ctx.buses.vm();
  auto [resolved, provenance] = vm.ResolveSpec(overrides.toVariants());
  const VmSpec spec = VmSpec::fromVariants(resolved, "the Vm service's spec");
  std::cout << "spec: " << spec.vcpus.value_or(0) << " vcpu · " << spec.memoryMib.value_or(0)
            << " MiB · " << formatSize(spec.diskBytes.value_or(0)) << " disk\n";
  auto [machine, job] = vm.CreateVm(resolved);
  MachineClient m(ctx.buses.user(), names::kVmBus, machine);
  Created created{machine, m.Name(), {}};
  if (whileCreating) whileCreating(machine);
  created.end = followJob(watcher, job, "creating " + created.name);
  if (!created.ok()) return created;
  const std::string address = m.Address();
  std::cout << created.name << " is " << m.State() << (address.empty() ? "" : " at " + address)
            << "; banger vm ssh " << created.name << "\n";
  return created;
}

void addVmLifecycleCommands(CLI::App* vm, Context& ctx) {
  auto* create = vm->add_subcommand("create", "Create a VM (and start it unless --no-start)");
  auto createOptions = std::make_shared<CreateOptions>();
  createOptions->spec.add(create);
  create->add_flag("--no-start", createOptions->noStart, "Create without starting");
  onRun(create, ctx, [&ctx, createOptions] {
    VmSpec overrides = createOptions->spec.overrides();
    overrides.start = !createOptions->noStart;
    return createMachine(ctx, overrides).ok() ? 0 : 1;
  });

  // Each verb starts every machine's job first, so they run side by side in the service,
  // then follows them in order; `kill` has no job.
  using MachineVerb = std::function<std::optional<sdbus::ObjectPath>(MachineClient&)>;
  const std::vector<std::tuple<const char*, const char*, const char*, MachineVerb>> verbs = {
      {"start", "Start VMs", "started", [](MachineClient& m) { return m.Start(); }},
      {"stop", "Stop VMs (Ctrl-Alt-Del, then SIGKILL after a timeout)", "stopped",
       [](MachineClient& m) { return m.Stop({}); }},
      {"restart", "Restart VMs", "restarted", [](MachineClient& m) { return m.Restart(); }},
      {"kill", "Kill VMs' Firecracker processes", "killed",
       [](MachineClient& m) -> std::optional<sdbus::ObjectPath> {
         m.Kill("SIGKILL");
         return std::nullopt;
       }},
      {"delete", "Delete VMs and their disks", "deleted",
       [](MachineClient& m) { return m.Delete({}); }},
  };
  for (const auto& [verb, help, done, call] : verbs) {
    auto* sub = vm->add_subcommand(verb, help);
    auto names = std::make_shared<std::vector<std::string>>();
    sub->add_option("NAME", *names, "VM names")->required();
    onRun(sub, ctx, [&ctx, verb = std::string(verb), done = std::string(done), call = call, names] {
      JobWatcher watcher(ctx.buses.user(), names::kVmBus, names::kVmPath);
      std::vector<std::pair<std::string, std::optional<sdbus::ObjectPath>>> started;
      int status = 0;
      for (const auto& n : *names) {
        try {
          auto machine = ctx.buses.machine(n);
          started.emplace_back(n, call(machine));
        } catch (const sdbus::Error& error) {
          std::cerr << "banger: " << verb << " " << n << ": " << error.getMessage() << "\n";
          status = 1;
        }
      }
      for (const auto& [n, job] : started) {
        if (job && !followJob(watcher, *job, verb + " " + n).succeeded()) {
          status = 1;
          continue;
        }
        std::cout << n << " " << done << "\n";
      }
      return status;
    });
  }

  auto* prune = vm->add_subcommand("prune", "Delete every VM that is not running");
  auto force = std::make_shared<bool>(false);
  prune->add_flag("-f,--force", *force, "Do not ask for confirmation");
  onRun(prune, ctx, [&ctx, force] {
    if (!*force) {
      if (!isatty(STDIN_FILENO)) {
        std::cerr << "banger: vm prune deletes every VM that is not running; without a terminal "
                     "to ask on, pass --force\n";
        return 1;
      }
      std::cout << "Delete every VM that is not running? [y/N] " << std::flush;
      std::string answer;
      if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y")) return 1;
    }
    for (const auto& n : ctx.buses.vm().Prune({})) std::cout << "removed " << n << "\n";
    return 0;
  });
}

void addVmCommands(CLI::App& app, Context& ctx) {
  auto* vm = app.add_subcommand("vm", "Create, run and manage VMs")->require_subcommand(1);
  addVmRunCommand(vm, ctx);
  addVmLifecycleCommands(vm, ctx);
  addVmInspectCommands(vm, ctx);
  addVmWorkspaceCommands(vm, ctx);
}

}  // namespace banger::cli
