#include <iostream>
#include <nlohmann/json.hpp>

#include "banger/size.h"
#include "commands.h"

namespace banger::cli {
namespace {

struct SpecFlags {
  std::string name, image, kernel, diskSize;
  uint32_t vcpus = 0, memoryMib = 0;
  bool nat = false;

  void add(CLI::App* sub, bool withName = true) {
    if (withName) sub->add_option("--name", name, "VM name (a DNS label; generated when absent)");
    sub->add_option("--image", image, "Image to boot (default: default_image or debian-bookworm)");
    sub->add_option("--vcpu", vcpus, "Number of vCPUs")->check(CLI::Range(1, 32));
    sub->add_option("--memory", memoryMib, "Memory in MiB")->check(CLI::Range(128, 1 << 20));
    sub->add_option("--disk-size", diskSize, "Work disk size, e.g. 8G");
    sub->add_flag("--nat", nat, "Give the VM outbound internet access through NAT");
  }

  std::map<std::string, sdbus::Variant> overrides() const {
    std::map<std::string, sdbus::Variant> o;
    if (!name.empty()) o["name"] = name;
    if (!image.empty()) o["image"] = image;
    if (!kernel.empty()) o["kernel"] = kernel;
    if (vcpus) o["vcpus"] = vcpus;
    if (memoryMib) o["memory_mib"] = memoryMib;
    if (!diskSize.empty()) {
      auto bytes = parseSize(diskSize);
      if (!bytes)
        throw CLI::ValidationError("--disk-size", "'" + diskSize + "' is not a size like 8G");
      o["disk_bytes"] = *bytes;
    }
    if (nat) o["nat"] = true;
    return o;
  }
};

// Resolves and prints the spec line, then asks the Vm service to create the machine.
int createMachine(Context& ctx, std::map<std::string, sdbus::Variant> overrides, bool start) {
  auto vm = ctx.buses.vm();
  overrides["start"] = start;
  auto [spec, provenance] = vm.ResolveSpec(overrides);
  std::cout << "spec: " << spec.at("vcpus").get<uint32_t>() << " vcpu · "
            << spec.at("memory_mib").get<uint32_t>() << " MiB · "
            << formatSize(spec.at("disk_bytes").get<uint64_t>()) << " disk\n";
  auto [machine, job] = vm.CreateVm(spec);
  std::cout << "created " << std::string(machine) << " (job " << std::string(job) << ")\n";
  return 0;
}

void printJob(const sdbus::ObjectPath& job) { std::cout << "job " << std::string(job) << "\n"; }

}  // namespace

void addVmCommands(CLI::App& app, Context& ctx) {
  auto* vm = app.add_subcommand("vm", "Create, run and manage VMs")->require_subcommand(1);

  auto* run = vm->add_subcommand(
      "run", "Run a command (or a shell) in a fresh VM, optionally with a repository inside");
  static SpecFlags runFlags;
  static std::string runPath, branch, from;
  static bool rm = false;
  run->add_option("PATH", runPath, "Repository to copy to /root/repo");
  runFlags.add(run);
  run->add_flag("--rm", rm, "Delete the VM when the command or session ends");
  run->add_option("--branch", branch, "Check out this branch in the guest copy");
  run->add_option("--from", from, "Start --branch from this ref")->needs("--branch");
  run->footer("Everything after -- is the command to run in the VM.");
  onRun(run, ctx, [&ctx] { return createMachine(ctx, runFlags.overrides(), true); });
  run->preparse_callback([&ctx](size_t) { ctx.takesRemoteCommand = true; });

  auto* create = vm->add_subcommand("create", "Create a VM (and start it unless --no-start)");
  static SpecFlags createFlags;
  static bool noStart = false;
  createFlags.add(create);
  create->add_flag("--no-start", noStart, "Create without starting");
  onRun(create, ctx, [&ctx] { return createMachine(ctx, createFlags.overrides(), !noStart); });

  static std::vector<std::string> names;
  using MachineVerb = std::function<void(MachineClient&)>;
  const std::vector<std::tuple<const char*, const char*, MachineVerb>> verbs = {
      {"start", "Start VMs", [](MachineClient& m) { printJob(m.Start()); }},
      {"stop", "Stop VMs (Ctrl-Alt-Del, then SIGKILL after a timeout)",
       [](MachineClient& m) { printJob(m.Stop({})); }},
      {"restart", "Restart VMs", [](MachineClient& m) { printJob(m.Restart()); }},
      {"kill", "Kill VMs' Firecracker processes", [](MachineClient& m) { m.Kill("SIGKILL"); }},
      {"delete", "Delete VMs and their disks", [](MachineClient& m) { printJob(m.Delete({})); }},
  };
  for (const auto& [verb, help, call] : verbs) {
    auto* sub = vm->add_subcommand(verb, help);
    sub->add_option("NAME", names, "VM names")->required();
    onRun(sub, ctx, [&ctx, call = call] {
      for (const auto& n : names) {
        auto machine = ctx.buses.machine(n);
        call(machine);
      }
      return 0;
    });
  }

  auto* prune = vm->add_subcommand("prune", "Delete every VM that is not running");
  static bool force = false;
  prune->add_flag("-f,--force", force, "Do not ask for confirmation");
  onRun(prune, ctx, [&ctx] {
    for (const auto& n : ctx.buses.vm().Prune({})) std::cout << "removed " << n << "\n";
    return 0;
  });

  auto* list = vm->add_subcommand("list", "List VMs");
  static bool listJson = false;
  list->add_flag("--json", listJson, "Print JSON");
  onRun(list, ctx, [&ctx] {
    const auto machines = ctx.buses.vm().ListMachines();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : machines) {
      out.push_back(
          {{"name", m.get<0>()}, {"state", m.get<1>()}, {"path", std::string(m.get<2>())}});
      if (!listJson) std::cout << m.get<0>() << "\t" << m.get<1>() << "\n";
    }
    if (listJson) std::cout << out.dump(2) << "\n";
    return 0;
  });

  static std::string one;
  static bool showJson = false;
  auto* show = vm->add_subcommand("show", "Show one VM");
  show->add_option("NAME", one, "VM name")->required();
  show->add_flag("--json", showJson, "Print JSON");
  onRun(show, ctx, [&ctx] {
    auto m = ctx.buses.machine(one);
    nlohmann::json out = {{"name", m.Name()},
                          {"state", m.State()},
                          {"image", m.Image()},
                          {"kernel", m.Kernel()},
                          {"vcpus", m.VCpus()},
                          {"memory_mib", m.MemoryMiB()},
                          {"disk_bytes", m.DiskBytes()},
                          {"address", m.Address()},
                          {"hostname", m.Hostname()},
                          {"nat", m.Nat()},
                          {"last_error", m.LastError()}};
    if (showJson) {
      std::cout << out.dump(2) << "\n";
    } else {
      for (const auto& [k, v] : out.items())
        std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    }
    return 0;
  });

  static SpecFlags setFlags;
  static bool noNat = false;
  const std::vector<std::tuple<const char*, const char*, MachineVerb>> single = {
      {"ssh", "Open a shell (or run -- CMD) in a VM over SSH",
       [](MachineClient& m) {
         auto [user, host, port, identity, knownHosts] = m.SshTarget();
         std::cout << user << "@" << host << ":" << port << "\n";
       }},
      {"logs", "Show a VM's serial console log", [](MachineClient& m) { m.OpenConsole(); }},
      {"stats", "Show a VM's resource use",
       [](MachineClient& m) {
         for (const auto& [k, v] : m.Stats()) std::cout << k << "\n";
       }},
      {"ports", "Show the ports a VM listens on",
       [](MachineClient& m) {
         for (const auto& p : m.Ports())
           std::cout << p.get<0>() << " " << p.get<1>() << ":" << p.get<2>() << "\n";
       }},
      {"set", "Change a VM's size or NAT",
       [](MachineClient& m) {
         auto settings = setFlags.overrides();
         if (noNat) settings["nat"] = false;
         m.Set(settings);
       }},
  };
  for (const auto& [verb, help, call] : single) {
    auto* sub = vm->add_subcommand(verb, help);
    sub->add_option("NAME", one, "VM name")->required();
    if (std::string(verb) == "ssh") {
      sub->footer("Everything after -- is the command to run in the VM.");
      sub->preparse_callback([&ctx](size_t) { ctx.takesRemoteCommand = true; });
    }
    if (std::string(verb) == "logs") sub->add_flag("-f,--follow", force, "Follow the log");
    if (std::string(verb) == "set") {
      setFlags.add(sub, false);
      sub->add_flag("--no-nat", noNat, "Turn NAT off");
    }
    onRun(sub, ctx, [&ctx, call = call] {
      auto machine = ctx.buses.machine(one);
      call(machine);
      return 0;
    });
  }

  auto* workspace =
      vm->add_subcommand("workspace", "Copy a repository into a VM")->require_subcommand(1);
  auto* prepare = workspace->add_subcommand("prepare", "Copy PATH into the VM NAME");
  static std::string guestPath, mode = "overlay";
  static bool untracked = false, dryRun = false;
  prepare->add_option("NAME", one, "VM name")->required();
  prepare->add_option("PATH", runPath, "Repository on this machine")->required();
  prepare->add_option("--guest-path", guestPath, "Where in the guest (default /root/repo)");
  prepare->add_option("--mode", mode, "overlay or full_copy")
      ->check(CLI::IsMember({"overlay", "full_copy"}));
  prepare->add_flag("--include-untracked", untracked, "Also copy untracked, not ignored files");
  prepare->add_flag("--dry-run", dryRun, "List the files that would be copied");
  onRun(prepare, ctx, [&ctx] {
    auto m = ctx.buses.machine(one);
    std::map<std::string, sdbus::Variant> options{{"mode", mode}, {"include_untracked", untracked}};
    if (!guestPath.empty()) options["guest_path"] = guestPath;
    if (dryRun) {
      for (const auto& f : m.ListWorkspaceFiles(runPath, options)) std::cout << f << "\n";
    } else {
      printJob(m.PrepareWorkspace(runPath, options));
    }
    return 0;
  });
}

}  // namespace banger::cli
