#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ssh_session.h"
#include "vm_commands.h"

namespace banger::cli {
namespace {

struct ListOptions {
  bool json = false;
};
struct ShowOptions {
  std::string name;
  bool json = false;
};
struct LogsOptions {
  std::string name;
  bool follow = false;
};
struct SetOptions {
  std::string name;
  SpecFlags spec;
  bool noNat = false;
};

int list(Context& ctx, const ListOptions& o) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : ctx.buses.vm().ListMachines()) {
    out.push_back({{"name", m.get<0>()}, {"state", m.get<1>()}, {"path", std::string(m.get<2>())}});
    if (!o.json) std::cout << m.get<0>() << "\t" << m.get<1>() << "\n";
  }
  if (o.json) std::cout << out.dump(2) << "\n";
  return 0;
}

int show(Context& ctx, const ShowOptions& o) {
  using namespace spec_keys;
  auto m = ctx.buses.machine(o.name);
  nlohmann::json out = {{kName, m.Name()},
                        {"state", m.State()},
                        {kImage, m.Image()},
                        {kKernel, m.Kernel()},
                        {kVcpus, m.VCpus()},
                        {kMemoryMib, m.MemoryMiB()},
                        {kDiskBytes, m.DiskBytes()},
                        {"address", m.Address()},
                        {"hostname", m.Hostname()},
                        {kNat, m.Nat()},
                        {"last_error", m.LastError()}};
  if (o.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& [k, v] : out.items())
      std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  return 0;
}

// The console log from the fd the service hands out; with --follow, what is appended too
// (like tail -f), until interrupted.
int printConsole(Context& ctx, const LogsOptions& o) {
  const sdbus::UnixFd console = ctx.buses.machine(o.name).OpenConsole();
  char buffer[65536];
  for (;;) {
    const ssize_t n = read(console.get(), buffer, sizeof buffer);
    if (n > 0) {
      std::cout.write(buffer, n);
      continue;
    }
    if (n < 0 && errno != EINTR) throw std::runtime_error("reading the console log failed");
    if (!o.follow) break;
    std::cout.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return 0;
}

int set(Context& ctx, const SetOptions& o) {
  VmSpec settings = o.spec.overrides();
  if (o.noNat) settings.nat = false;
  ctx.buses.machine(o.name).Set(settings.toVariants());
  return 0;
}

// Replaces banger with OpenSSH, aimed by what the service says (SshTarget): its key, its
// known_hosts with the host key pinned at creation, so nothing ever asks to trust a host.
// ssh's exit status (the remote command's) becomes banger's.
int execSsh(Context& ctx, const std::string& name) {
  auto machine = ctx.buses.machine(name);
  std::vector<std::string> argv = sshCommand(machine, name, onTerminal(), ctx.remoteCommand);
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  std::cout.flush();
  ::execvp("ssh", args.data());
  std::cerr << "banger: cannot run ssh: " << std::strerror(errno)
            << " (install OpenSSH's client: apt install openssh-client)\n";
  return 1;
}

}  // namespace

void addVmInspectCommands(CLI::App* vm, Context& ctx) {
  auto* listCommand = vm->add_subcommand("list", "List VMs");
  auto listed = std::make_shared<ListOptions>();
  listCommand->add_flag("--json", listed->json, "Print JSON");
  onRun(listCommand, ctx, [&ctx, listed] { return list(ctx, *listed); });

  auto* showCommand = vm->add_subcommand("show", "Show one VM");
  auto shown = std::make_shared<ShowOptions>();
  showCommand->add_option("NAME", shown->name, "VM name")->required();
  showCommand->add_flag("--json", shown->json, "Print JSON");
  onRun(showCommand, ctx, [&ctx, shown] { return show(ctx, *shown); });

  auto* ssh = vm->add_subcommand("ssh", "Open a shell (or run -- CMD) in a VM over SSH");
  auto sshName = std::make_shared<std::string>();
  ssh->add_option("NAME", *sshName, "VM name")->required();
  onRun(ssh, ctx, [&ctx, sshName] { return execSsh(ctx, *sshName); });
  ssh->footer("Everything after -- is the command to run in the VM.");
  ssh->preparse_callback([&ctx](size_t) { ctx.takesRemoteCommand = true; });

  auto* logs = vm->add_subcommand("logs", "Show a VM's serial console log");
  auto logged = std::make_shared<LogsOptions>();
  logs->add_option("NAME", logged->name, "VM name")->required();
  logs->add_flag("-f,--follow", logged->follow, "Follow the log");
  onRun(logs, ctx, [&ctx, logged] { return printConsole(ctx, *logged); });

  auto* stats = vm->add_subcommand("stats", "Show a VM's resource use");
  auto statsOptions = std::make_shared<ShowOptions>();
  stats->add_option("NAME", statsOptions->name, "VM name")->required();
  stats->add_flag("--json", statsOptions->json, "Print JSON");
  onRun(stats, ctx, [&ctx, statsOptions] {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : ctx.buses.machine(statsOptions->name).Stats()) {
      const std::string type = value.peekValueType();
      if (type == "s")
        out[key] = value.get<std::string>();
      else if (type == "u")
        out[key] = value.get<uint32_t>();
      else if (type == "t")
        out[key] = value.get<uint64_t>();
      else if (type == "d")
        out[key] = value.get<double>();
    }
    if (statsOptions->json) {
      std::cout << out.dump(2) << "\n";
    } else {
      for (const auto& [key, value] : out.items())
        std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump())
                  << "\n";
    }
    return 0;
  });

  auto* ports = vm->add_subcommand("ports", "Show the ports a VM listens on");
  auto portsOptions = std::make_shared<ShowOptions>();
  ports->add_option("NAME", portsOptions->name, "VM name")->required();
  ports->add_flag("--json", portsOptions->json, "Print JSON");
  onRun(ports, ctx, [&ctx, portsOptions] {
    nlohmann::json out = nlohmann::json::array();
    const auto rows = ctx.buses.machine(portsOptions->name).Ports();
    if (!portsOptions->json) std::cout << "PROTO\tADDRESS\tPORT\tPROCESS\tPID\tURL\n";
    for (const auto& p : rows) {
      out.push_back({{"proto", p.get<0>()},
                     {"address", p.get<1>()},
                     {"port", p.get<2>()},
                     {"process", p.get<3>()},
                     {"pid", p.get<4>()},
                     {"url", p.get<5>()}});
      if (!portsOptions->json)
        std::cout << p.get<0>() << "\t" << p.get<1>() << "\t" << p.get<2>() << "\t" << p.get<3>()
                  << "\t" << p.get<4>() << "\t" << p.get<5>() << "\n";
    }
    if (portsOptions->json) std::cout << out.dump(2) << "\n";
    return 0;
  });

  auto* setCommand = vm->add_subcommand("set", "Change a VM's size or NAT");
  auto setOptions = std::make_shared<SetOptions>();
  setCommand->add_option("NAME", setOptions->name, "VM name")->required();
  setOptions->spec.add(setCommand, false);
  setCommand->add_flag("--no-nat", setOptions->noNat, "Turn NAT off");
  onRun(setCommand, ctx, [&ctx, setOptions] { return set(ctx, *setOptions); });
}

}  // namespace banger::cli
