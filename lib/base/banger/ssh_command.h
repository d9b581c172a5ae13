// The OpenSSH command line that reaches one VM with banger's key and its pinned host key,
// so nothing ever asks to trust a host. Shared by the CLI (`vm ssh`, `vm run`) and the Vm
// service (workspaces), which must reach a guest exactly the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace banger {

struct SshTarget {
  std::string user;
  std::string host;
  std::uint16_t port = 22;
  std::string identityFile;
  std::string knownHostsFile;
  std::string hostKeyAlias;  // NAME.vm: the name its host key is pinned under
};

// "ssh", its options and user@host; the caller appends -t/-T and the remote command.
std::vector<std::string> sshArguments(const SshTarget& target);

}  // namespace banger
