#include <filesystem>
#include <iostream>

#include "vm_commands.h"

namespace banger::cli {
namespace {

struct PrepareOptions {
  std::string name, path, guestPath, mode = "overlay";
  bool includeUntracked = false, dryRun = false;
};

int prepare(Context& ctx, const PrepareOptions& o) {
  auto m = ctx.buses.machine(o.name);
  // The service reads the path: relative to this shell's directory, not the service's.
  std::error_code ec;
  const std::string path = std::filesystem::absolute(o.path, ec).lexically_normal().string();
  std::map<std::string, sdbus::Variant> options{{"mode", o.mode},
                                                {"include_untracked", o.includeUntracked}};
  if (!o.guestPath.empty()) options["guest_path"] = o.guestPath;
  if (o.dryRun) {
    for (const auto& f : m.ListWorkspaceFiles(path, options)) std::cout << f << "\n";
  } else {
    JobWatcher watcher(ctx.buses.user(), names::kVmBus, names::kVmPath);
    if (!followJob(watcher, m.PrepareWorkspace(path, options),
                   "copying " + path + " into " + o.name)
             .succeeded())
      return 1;
  }
  return 0;
}

}  // namespace

void addVmWorkspaceCommands(CLI::App* vm, Context& ctx) {
  auto* workspace =
      vm->add_subcommand("workspace", "Copy a repository into a VM")->require_subcommand(1);
  auto* prepareCommand = workspace->add_subcommand("prepare", "Copy PATH into the VM NAME");
  auto o = std::make_shared<PrepareOptions>();
  prepareCommand->add_option("NAME", o->name, "VM name")->required();
  prepareCommand->add_option("PATH", o->path, "Repository on this machine")->required();
  prepareCommand->add_option("--guest-path", o->guestPath,
                             "Where in the guest (default /root/repo)");
  prepareCommand->add_option("--mode", o->mode, "overlay or full_copy")
      ->check(CLI::IsMember({"overlay", "full_copy"}));
  prepareCommand->add_flag("--include-untracked", o->includeUntracked,
                           "Also copy untracked, not ignored files");
  prepareCommand->add_flag("--dry-run", o->dryRun, "List the files that would be copied");
  onRun(prepareCommand, ctx, [&ctx, o] { return prepare(ctx, *o); });
}

}  // namespace banger::cli
