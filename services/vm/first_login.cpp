#include "first_login.h"

#include "banger/errors.h"
#include "banger/ssh_command.h"
#include "banger/text.h"

namespace banger::vm {

std::vector<std::string> guestSshCommand(const MachineRecord& record, const SshFiles& files,
                                         const std::filesystem::path& runtimeDir) {
  std::vector<std::string> argv =
      sshArguments({"root", record.lease ? record.lease->address : "", 22, files.identity.string(),
                    files.knownHosts.string(), record.name + ".vm",
                    sshControlPath(runtimeDir.string(), record.id)});
  argv.insert(argv.end() - 1, {"-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o",
                               "ServerAliveInterval=15"});
  return argv;
}

std::optional<bool> sshdListens(AgentClient& agent, const std::string& vsockPath) {
  try {
    for (const AgentPort& port : agent.ports(vsockPath))
      if (port.proto == "tcp" && port.port == 22) return true;
    return false;
  } catch (const Error&) {
    return std::nullopt;
  }
}

LoginOutcome logInOnce(ProcessRunner& programs, std::vector<std::string> sshCommand,
                       int connectTimeout, const std::atomic<bool>* cancel) {
  // ssh takes the first value given for an option: this one wins over the command's own.
  sshCommand.insert(sshCommand.begin() + 1,
                    {"-o", "ConnectTimeout=" + std::to_string(connectTimeout)});
  sshCommand.insert(sshCommand.end() - 1, "-N");
  Command login(std::move(sshCommand));
  login.timeout = std::chrono::seconds(connectTimeout + 15);
  std::string said;
  LoginOutcome outcome;
  try {
    const ProcessResult result =
        programs.stream(login, OutputSink::stderrInto(&said, 1024), cancel);
    outcome.loggedIn = result.ok();
    if (!outcome.loggedIn)
      outcome.why = (result.canceled   ? std::string("canceled")
                     : result.timedOut ? std::string("timed out")
                                       : "status " + std::to_string(result.exitCode)) +
                    (said.empty() ? "" : ": " + withoutTrailingSpace(said));
  } catch (const std::exception& error) {
    outcome.why = error.what();
  }
  return outcome;
}

}  // namespace banger::vm
