// OpenSSH aimed at one VM by what the Vm service says (Machine.SshTarget): its key and its
// known_hosts with the host key pinned at creation, so nothing ever asks to trust a host.
#pragma once

#include <string>
#include <vector>

#include "bus_client.h"
#include "child_process.h"

namespace banger::cli {

// `ssh` with its options, -t when `terminal`, then `remoteCommand` words as they are.
std::vector<std::string> sshCommand(MachineClient& machine, const std::string& name, bool terminal,
                                    const std::vector<std::string>& remoteCommand);

// One shell command line that runs `argv` in `directory` (none when empty) and ends with
// its status, 128+n when a signal ended it, as ssh reports it.
std::string remoteCommandLine(const std::vector<std::string>& argv, const std::string& directory);

// True when both stdin and stdout are terminals: then ssh gets one (-t).
bool onTerminal();

}  // namespace banger::cli
