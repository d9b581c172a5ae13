// A program banger runs and waits for (ssh for a session, setpriv for a step of system
// install), with Ctrl-C handled the way a user expects of a foreground command.
#pragma once

#include <string>
#include <vector>

namespace banger::cli {

// Runs `argv` as a child and waits: its exit status, or 128+n for a signal. A SIGINT sent
// to banger alone ends the child (SIGTERM); `*interrupted` says it came.
int runChild(const std::vector<std::string>& argv, bool* interrupted);

}  // namespace banger::cli
