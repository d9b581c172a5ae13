// `banger vm run [PATH] [-- CMD...]`: create, copy the workspace, run over SSH, pass the
// status back, and with --rm delete the VM whatever happened — except when the guest never
// answered SSH: then it is kept, for `banger vm logs`.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>

#include "sigint_scope.h"
#include "ssh_session.h"
#include "vm_commands.h"

namespace banger::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kGuestRepo = "/root/repo";
constexpr const char* kTimeoutError = "org.banger.Error.Timeout";
// An interrupted run still deletes its VM, but waits no longer than this for it.
constexpr std::chrono::seconds kDeleteAfterInterrupt{30};

// A Ctrl-C between two phases (after one job ended, before the next is followed or ssh
// started) is remembered here, so the run still ends as an interrupted one: what is left
// skipped, the VM deleted with --rm. Each phase installs its own handler meanwhile.
volatile std::sig_atomic_t interruptedBetweenPhases = 0;
void rememberInterrupt(int) { interruptedBetweenPhases = 1; }
bool interruptedBetween() { return interruptedBetweenPhases != 0; }

struct RunOptions {
  SpecFlags spec;
  std::string path, branch, from;
  bool rm = false;
};

// Usage errors, checked before anything is created: they exit 2.
std::string checkedPath(const RunOptions& o) {
  if (!o.branch.empty() && o.path.empty())
    throw CLI::ValidationError("--branch", "needs a PATH: the branch is made in its copy");
  if (o.path.empty()) return "";
  std::error_code ec;
  if (!fs::is_directory(o.path, ec))
    throw CLI::ValidationError("PATH", "'" + o.path + "' is no directory");
  return fs::absolute(o.path, ec).lexically_normal().string();
}

// Asks for the copy while the machine is still being created: the service reads the
// repository during the boot and copies it once the machine runs. The job, or nullopt
// when the service refused it (said why).
std::optional<sdbus::ObjectPath> startWorkspace(Context& ctx, const sdbus::ObjectPath& machinePath,
                                                const std::string& path, const RunOptions& o) {
  MachineClient machine(ctx.buses.user(), names::kVmBus, machinePath);
  std::map<std::string, sdbus::Variant> options{{"guest_path", std::string(kGuestRepo)}};
  if (!o.branch.empty()) options["branch"] = o.branch;
  if (!o.from.empty()) options["from"] = o.from;
  try {
    return machine.PrepareWorkspace(path, options);
  } catch (const sdbus::Error& error) {
    std::cerr << "banger: copying " << path << ": " << error.getMessage() << "\n";
    return std::nullopt;
  }
}

// The session or the command: its exit status.
int session(Context& ctx, const Created& created, bool inRepo, bool* interrupted) {
  MachineClient machine(ctx.buses.user(), names::kVmBus, created.machine);
  const std::string directory = inRepo ? kGuestRepo : "";
  std::vector<std::string> remote;
  bool terminal = onTerminal();
  if (!ctx.remoteCommand.empty()) {
    remote.push_back(remoteCommandLine(ctx.remoteCommand, directory));
  } else if (inRepo) {
    remote.push_back("cd " + directory + " && exec \"${SHELL:-/bin/sh}\" -l");
    terminal = terminal || isatty(STDIN_FILENO);
  }
  std::cout.flush();
  return runChild(sshCommand(machine, created.name, terminal, remote), interrupted);
}

bool deleteMachine(Context& ctx, const Created& created, bool interrupted) {
  MachineClient machine(ctx.buses.user(), names::kVmBus, created.machine);
  JobWatcher watcher(ctx.buses.user(), names::kVmBus, names::kVmPath);
  const bool deleted = followJob(watcher, machine.Delete({}), "deleting " + created.name,
                                 interrupted ? std::chrono::milliseconds(kDeleteAfterInterrupt)
                                             : std::chrono::milliseconds(0))
                           .succeeded();
  if (deleted) std::cout << created.name << " deleted\n";
  return deleted;
}

int run(Context& ctx, const RunOptions& o) {
  const std::string path = checkedPath(o);
  VmSpec overrides = o.spec.overrides();
  overrides.start = true;
  interruptedBetweenPhases = 0;
  const SigintScope between(rememberInterrupt);
  JobWatcher watcher(ctx.buses.user(), names::kVmBus, names::kVmPath);
  std::optional<sdbus::ObjectPath> copyJob;  // none: no PATH, or the copy was refused
  const Created created =
      createMachine(ctx, overrides, watcher, [&](const sdbus::ObjectPath& machine) {
        if (!path.empty()) copyJob = startWorkspace(ctx, machine, path, o);
      });
  if (!created.ok()) {
    if (created.end.errorName == kTimeoutError) {
      std::cerr << "banger: " << created.name << " is kept so you can see why: banger vm logs "
                << created.name << "\n";
      return 1;
    }
    if (o.rm) deleteMachine(ctx, created, created.end.interrupted);
    return created.end.interrupted ? 130 : 1;
  }
  int status = 1;
  bool interrupted = interruptedBetween();
  if (!interrupted && copyJob) {
    const JobEnd copied = followJob(watcher, *copyJob, "copying " + path + " into " + created.name);
    interrupted = copied.interrupted || interruptedBetween();
    if (copied.succeeded() && !interrupted) status = session(ctx, created, true, &interrupted);
  } else if (!interrupted && path.empty()) {
    status = session(ctx, created, false, &interrupted);
  }
  interrupted = interrupted || interruptedBetween();
  if (interrupted) status = 130;  // ssh itself ends with 255 on the SIGTERM it was sent
  if (o.rm && !deleteMachine(ctx, created, interrupted) && status == 0) status = 1;
  return status;
}

}  // namespace

void addVmRunCommand(CLI::App* vm, Context& ctx) {
  auto* run = vm->add_subcommand(
      "run", "Run a command (or a shell) in a fresh VM, optionally with a repository inside");
  auto o = std::make_shared<RunOptions>();
  run->add_option("PATH", o->path, "Repository to copy to /root/repo");
  o->spec.add(run);
  run->add_flag("--rm", o->rm, "Delete the VM when the command or session ends");
  run->add_option("--branch", o->branch, "Create this branch in the guest's copy");
  run->add_option("--from", o->from, "Start --branch at this commit")->needs("--branch");
  run->footer(
      "Everything after -- is the command, run in /root/repo (or /root) with its words kept "
      "as they are;\nbanger exits with its status. Shell syntax needs a shell: -- sh -c '...'");
  onRun(run, ctx, [&ctx, o] { return cli::run(ctx, *o); });
  run->preparse_callback([&ctx](size_t) { ctx.takesRemoteCommand = true; });
}

}  // namespace banger::cli
