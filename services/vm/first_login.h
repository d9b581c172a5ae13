// The first ssh login to a booting VM, made by the boot itself once the agent says sshd
// listens. It proves the way from this machine to sshd without a probe connection of its
// own (each connection costs sshd a re-execution of itself: about 30 ms of the guest's CPU
// here, while a workspace is being copied), and it leaves the master connection that
// `vm run`'s command and every later ssh to the VM share (docs/ssh.md).
#pragma once

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent_client.h"
#include "banger/process.h"
#include "machine.h"
#include "ssh_keys.h"

namespace banger::vm {

// ssh to the VM that never asks anything (BatchMode): the key and the host key pinned at
// creation are all it needs. Its last argument is root@ADDRESS; the caller appends the
// remote command (or inserts -N before it).
std::vector<std::string> guestSshCommand(const MachineRecord& record, const SshFiles& files,
                                         const std::filesystem::path& runtimeDir);

// Whether the guest's agent lists a TCP listener on port 22; nullopt when it cannot say.
std::optional<bool> sshdListens(AgentClient& agent, const std::string& vsockPath);

struct LoginOutcome {
  bool loggedIn = false;
  std::string why;  // when not: how ssh ended and the first KiB of what it said
};

// `ssh -N` with `sshCommand`: it returns once logged in, leaving the master behind.
// Gives up on connecting after `connectTimeout` seconds; a set `*cancel` ends it.
LoginOutcome logInOnce(ProcessRunner& programs, std::vector<std::string> sshCommand,
                       int connectTimeout, const std::atomic<bool>* cancel);

}  // namespace banger::vm
