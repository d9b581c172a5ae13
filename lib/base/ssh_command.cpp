#include "banger/ssh_command.h"

namespace banger {

std::string sshControlPath(const std::string& runtimeDir, const std::string& vmId) {
  return runtimeDir + "/vm/" + vmId + "/ssh.ctl";
}

std::string sshConfigPath(const std::string& configDir) { return configDir + "/ssh_config"; }

std::vector<std::string> sshArguments(const SshTarget& target) {
  std::vector<std::string> argv = {
      "ssh", "-i", target.identityFile, "-p", std::to_string(target.port),
      // ~/.ssh/config may Include banger's ssh_config; nothing in it should change this.
      "-F", "none", "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=" + target.knownHostsFile,
      "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=" + target.hostKeyAlias, "-o",
      "CheckHostIP=no", "-o", "LogLevel=ERROR", "-o", std::string("KexAlgorithms=") + kSshKex};
  if (!target.controlPath.empty())
    argv.insert(argv.end(), {"-o", "ControlMaster=auto", "-o", "ControlPath=" + target.controlPath,
                             "-o", "ControlPersist=" + std::to_string(kSshControlPersistSec)});
  argv.push_back(target.user + "@" + target.host);
  return argv;
}

}  // namespace banger
