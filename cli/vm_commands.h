// The `banger vm` subcommands, by theme: lifecycle (commands_vm.cpp), inspection and
// access (commands_vm_inspect.cpp), workspaces (commands_vm_workspace.cpp), and `vm run`
// (commands_vm_run.cpp), which puts them together.
#pragma once

#include <functional>

#include "banger/vm_spec.h"
#include "commands.h"
#include "job_watch.h"

namespace banger::cli {

// The spec flags shared by `vm run`, `vm create` and `vm set`.
struct SpecFlags {
  std::string name, image, kernel, diskSize;
  uint32_t vcpus = 0, memoryMib = 0;
  bool nat = false;

  void add(CLI::App* sub, bool withName = true);
  // Only what was given; a bad --disk-size or --name is a usage error.
  VmSpec overrides() const;
};

void printJob(const sdbus::ObjectPath& job);

// Follows a Vm job to its end and prints why it failed, naming `what`.
JobEnd followJob(JobWatcher& watcher, const sdbus::ObjectPath& job, const std::string& what,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(0));

struct Created {
  sdbus::ObjectPath machine;
  std::string name;
  JobEnd end;  // of the create job
  bool ok() const { return end.succeeded(); }
};

// Prints the spec line, asks the Vm service to create the machine and follows the job,
// saying why when it failed.
Created createMachine(Context& ctx, VmSpec overrides);
// The same, with `watcher` (made before, so it also collects the signals of jobs that
// `whileCreating` starts) and `whileCreating`, which runs as soon as the machine exists,
// before its creation is followed: `vm run` asks for its workspace copy there.
Created createMachine(Context& ctx, VmSpec overrides, JobWatcher& watcher,
                      const std::function<void(const sdbus::ObjectPath&)>& whileCreating);

void addVmRunCommand(CLI::App* vm, Context& ctx);
void addVmLifecycleCommands(CLI::App* vm, Context& ctx);
void addVmInspectCommands(CLI::App* vm, Context& ctx);
void addVmWorkspaceCommands(CLI::App* vm, Context& ctx);

}  // namespace banger::cli
