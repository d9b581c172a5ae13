#include "banger/ssh_command.h"

namespace banger {

std::vector<std::string> sshArguments(const SshTarget& target) {
  return {"ssh", "-i", target.identityFile, "-p", std::to_string(target.port), "-o",
          "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=" + target.knownHostsFile, "-o",
          "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=" + target.hostKeyAlias, "-o",
          "CheckHostIP=no",
          // ~/.ssh/config may Include banger's ssh_config; nothing in it should change this.
          "-F", "none", "-o", "LogLevel=ERROR", target.user + "@" + target.host};
}

}  // namespace banger
