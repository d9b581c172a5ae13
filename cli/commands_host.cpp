#include <filesystem>
#include <iostream>

#include "banger/paths.h"
#include "banger/ssh_command.h"

#include "commands.h"
#include "completion.h"
#include "doctor.h"
#include "ssh_config_file.h"

namespace banger::cli {

namespace fs = std::filesystem;

void addHostCommands(CLI::App& app, Context& ctx) {
  auto* doctor = app.add_subcommand("doctor", "Check this machine and banger's services");
  onRun(doctor, ctx, [&ctx] {
    SystemHostInspector host;
    return printDoctor(runDoctor(host, ctx.buses), std::cout);
  });

  auto* sshConfig = app.add_subcommand("ssh-config", "Let plain `ssh NAME.vm` reach your VMs");
  auto install = std::make_shared<bool>(false), uninstall = std::make_shared<bool>(false);
  auto* in = sshConfig->add_flag("--install", *install,
                                 "Add an Include of banger's ssh_config to ~/.ssh/config");
  sshConfig->add_flag("--uninstall", *uninstall, "Remove that Include")->excludes(in);
  onRun(sshConfig, ctx, [install, uninstall] {
    const UserPaths paths = UserPaths::resolve(processEnvironment());
    const fs::path ours = sshConfigPath(paths.configDir.string());
    const fs::path theirs = paths.home / ".ssh" / "config";
    if (*install) {
      std::cout << theirs.string() << ": Include of " << ours.string() << " "
                << installInclude(theirs, ours) << "\n";
    } else if (*uninstall) {
      std::cout << theirs.string() << ": Include of banger's ssh_config "
                << uninstallInclude(theirs) << "\n";
    } else {
      std::cout << "banger's ssh_config: " << ours.string()
                << "\n(written by the Vm service: a Host entry per VM, its key, its pinned host "
                   "key)\n\nTo use `ssh NAME.vm` from any terminal, ~/.ssh/config needs, at its "
                   "top:\n\n"
                << includeBlock(ours)
                << "\nbanger ssh-config --install adds exactly that; --uninstall removes it.\n";
    }
    return 0;
  });

  auto* completion = app.add_subcommand("completion", "Print a shell completion script");
  auto shell = std::make_shared<std::string>();
  completion->add_option("SHELL", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  onRun(completion, ctx, [&app, shell] {
    std::cout << completionScript(app, *shell);
    return 0;
  });

  auto* complete = app.add_subcommand("__complete", "Live names for the completion scripts");
  complete->group("");  // hidden from --help and from the scripts' own word lists
  auto kind = std::make_shared<std::string>();
  complete->add_option("KIND", *kind)->required()->check(CLI::IsMember({"vm", "image", "kernel"}));
  onRun(complete, ctx, [&ctx, kind] {
    try {
      printLiveNames(ctx.buses.user(), *kind, std::cout);
    } catch (const sdbus::Error&) {
      // No session bus: a completion offers nothing and says nothing.
    }
    return 0;
  });
  addSystemCommands(app, ctx);
}

}  // namespace banger::cli
