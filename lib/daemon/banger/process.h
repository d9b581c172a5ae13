// The one module that forks and execs. Everything that runs an external program goes
// through ProcessRunner, so tests can hand in their own.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace banger {

struct Command {
  Command() = default;
  Command(std::vector<std::string> arguments)
      : argv(std::move(arguments)) {}  // NOLINT: implicit on purpose

  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> extraEnv;
  std::optional<std::string> stdinData;
  std::string workingDirectory;          // empty = inherit
  std::chrono::milliseconds timeout{0};  // 0 = none; on expiry SIGKILL and exitCode -1
};

struct ProcessResult {
  int exitCode = -1;   // -1 when killed by a signal or the timeout
  int termSignal = 0;  // the signal that ended it, if any
  bool timedOut = false;
  std::string out;
  std::string err;
  bool ok() const { return exitCode == 0; }
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion, capturing stdout and stderr. Throws banger::Error(NotFound) when
  // the program cannot be executed at all.
  virtual ProcessResult run(const Command& command) = 0;
};

class SystemProcessRunner final : public ProcessRunner {
 public:
  ProcessResult run(const Command& command) override;
};

}  // namespace banger
