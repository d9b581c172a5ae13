// The `banger vm` subcommands, by theme: lifecycle (commands_vm.cpp), inspection and
// access (commands_vm_inspect.cpp), workspaces (commands_vm_workspace.cpp).
#pragma once

#include "banger/vm_spec.h"
#include "commands.h"

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

void addVmLifecycleCommands(CLI::App* vm, Context& ctx);
void addVmInspectCommands(CLI::App* vm, Context& ctx);
void addVmWorkspaceCommands(CLI::App* vm, Context& ctx);

}  // namespace banger::cli
