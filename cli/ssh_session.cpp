#include "ssh_session.h"

#include <unistd.h>

#include "banger/paths.h"
#include "banger/ssh_command.h"
#include "banger/text.h"

namespace banger::cli {

std::vector<std::string> sshCommand(MachineClient& machine, const std::string& name, bool terminal,
                                    const std::vector<std::string>& remoteCommand) {
  const auto [user, host, port, identity, knownHosts] = machine.SshTarget();
  // The VM's master connection, shared with the Vm service's own ssh (workspaces).
  const std::string runtimeDir = UserPaths::resolve(processEnvironment()).runtimeDir.string();
  std::vector<std::string> argv =
      sshArguments({user, host, port, identity, knownHosts, name + ".vm",
                    sshControlPath(runtimeDir, machine.Id())});
  argv.insert(argv.end() - 1, terminal ? "-t" : "-T");
  argv.insert(argv.end(), remoteCommand.begin(), remoteCommand.end());
  return argv;
}

std::string remoteCommandLine(const std::vector<std::string>& argv, const std::string& directory) {
  std::string words;
  for (const auto& word : argv) {
    if (!words.empty()) words += ' ';
    words += shellQuote(word);
  }
  // Not the shell's last command, so it is not exec'd: a signal death comes back as
  // 128+n in $? and leaves as an ordinary status.
  const std::string run = "{ " + words + "; }; exit $?";
  return directory.empty() ? run : "cd " + shellQuote(directory) + " && " + run;
}

bool onTerminal() { return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO); }

}  // namespace banger::cli
