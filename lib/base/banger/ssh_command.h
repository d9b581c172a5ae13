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
  // Where the first ssh to this VM leaves a master connection that later ones reuse
  // (ControlMaster): a session then costs a channel, not a key exchange and a login.
  // Empty: every ssh connects anew.
  std::string controlPath;
};

// The one place that says where a VM's ssh master listens: beside its API socket, in the
// VM's runtime directory, which goes with the VM. By id, never by name or address, which
// a later VM may have again.
std::string sshControlPath(const std::string& runtimeDir, const std::string& vmId);

// banger's ssh_config (a Host entry per VM), which the Vm service writes and
// `banger ssh-config` points ~/.ssh/config at.
std::string sshConfigPath(const std::string& configDir);

// Key exchange preferred for a VM: X25519 first, the others kept as fallbacks. OpenSSH
// 9's default, the hybrid sntrup761x25519, costs the client about 100 ms of CPU per login
// on a slow workstation; its post-quantum half guards recorded traffic, and this traffic
// never leaves the machine (the host's own bridge).
inline constexpr const char* kSshKex = "^curve25519-sha256";

// A master outlives the ssh that started it by this long without sessions.
inline constexpr int kSshControlPersistSec = 30;

// "ssh", its options and user@host; the caller appends -t/-T and the remote command.
std::vector<std::string> sshArguments(const SshTarget& target);

}  // namespace banger
