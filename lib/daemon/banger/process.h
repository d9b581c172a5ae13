// The one module that forks and execs (DESIGN §2). Everything that runs an external
// program goes through ProcessRunner, so tests can hand in their own.
//
// run() and stream() start the program in a process group of its own and end the whole
// group on a timeout or a cancel: SIGTERM first, SIGKILL after `killGrace`. Tools such as
// mmdebstrap leave children behind otherwise. startDetached() is for programs that must
// outlive the service (Firecracker): a new session, and no descriptor but the ones given.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace banger {

struct Command {
  Command() = default;
  Command(std::vector<std::string> arguments)
      : argv(std::move(arguments)) {}  // NOLINT: implicit on purpose

  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> extraEnv;
  std::optional<std::string> stdinData;
  // When set, the program's stdout is this descriptor (the write end of a pipe the caller
  // reads as the program writes, e.g. mmdebstrap's tar) instead of being captured or
  // streamed as lines. The caller keeps its own copy and closes it after the run.
  int stdoutFd = -1;
  // When set, the program's stdin is this descriptor (the read end of a pipe another
  // program writes, e.g. ssh reading tar) instead of stdinData. The caller closes its copy.
  int stdinFd = -1;
  std::string workingDirectory;          // empty = inherit
  std::chrono::milliseconds timeout{0};  // 0 = none
  // How long SIGTERM has to end the process group before SIGKILL.
  std::chrono::milliseconds killGrace{3000};
};

struct ProcessResult {
  int exitCode = -1;   // -1 when killed by a signal, the timeout or a cancel
  int termSignal = 0;  // the signal that ended it, if any
  bool timedOut = false;
  bool canceled = false;
  std::string out;  // captured by run(); empty for stream()
  std::string err;
  bool ok() const { return exitCode == 0; }
};

// Where stream() sends output: one call per line, without its '\n' (a line longer than
// kMaxLine arrives in pieces, so memory stays bounded). Runs on the calling thread.
struct OutputSink {
  static constexpr size_t kMaxLine = 64 * 1024;
  std::function<void(std::string_view line)> stdoutLine;
  std::function<void(std::string_view line)> stderrLine;

  // Keeps stderr's lines in `*said` until it holds `limit` bytes (for an error message
  // naming what the program said), and drops stdout. `said` outlives the run.
  static OutputSink stderrInto(std::string* said, size_t limit);
};

struct DetachedCommand {
  std::vector<std::string> argv;
  std::map<std::string, std::string> extraEnv;
  std::string workingDirectory;
  // Descriptors the program gets, as 3, 4, ... in this order (as sd_listen_fds expects);
  // every other one is closed.
  std::vector<int> fds;
  // stdout and stderr are appended here; /dev/null when empty. stdin is /dev/null.
  std::string logFile;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion, capturing stdout and stderr. Throws banger::Error(NotFound) when
  // the program cannot be executed at all.
  virtual ProcessResult run(const Command& command) = 0;
  // Runs to completion, handing output to `sink` line by line. Setting `*cancel` (from
  // any thread) ends the program as a timeout does, with `canceled` set.
  virtual ProcessResult stream(const Command& command, const OutputSink& sink,
                               const std::atomic<bool>* cancel = nullptr) = 0;
  // Starts the program in a session of its own and returns its pid at once. It is the
  // caller's child: the caller reaps it, or lets it go when the caller exits.
  virtual pid_t startDetached(const DetachedCommand& command) = 0;
};

class SystemProcessRunner final : public ProcessRunner {
 public:
  ProcessResult run(const Command& command) override;
  ProcessResult stream(const Command& command, const OutputSink& sink,
                       const std::atomic<bool>* cancel = nullptr) override;
  pid_t startDetached(const DetachedCommand& command) override;
};

}  // namespace banger
