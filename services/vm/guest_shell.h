// Where a workspace's guest side runs: one shell script at a time, as root in the guest, its
// stdin a stream from this machine (git's pack, tar). Through banger-agent's POST /exec
// over vsock, which needs no SSH login; through ssh for an image whose agent predates it.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "banger/process.h"
#include "stream_http.h"

namespace banger::vm {

struct GuestRun {
  int exitCode = -1;  // -1 when a signal or a cancel ended it
  int termSignal = 0;
  bool canceled = false;
  std::string err;  // what the script wrote to stderr, its first 4 KiB
  bool ok() const { return exitCode == 0; }
};

class GuestShell {
 public:
  virtual ~GuestShell() = default;
  // Runs `script` with `stdinData` then, when stdinFd >= 0, what `stdinFd` gives up to its
  // end as its stdin. Setting `*cancel` ends it with `canceled`. Throws when the guest
  // cannot be reached at all.
  virtual GuestRun run(const std::string& script, int stdinFd, const std::string& stdinData,
                       const std::atomic<bool>* cancel) = 0;
};

// A command that runs the script given as its last argument: ssh … root@ADDRESS in the
// service, `sh -c` in tests. `beforeFirstRun` runs once, before the first command starts
// (the wait for the login that leaves the master connection the sessions share).
class CommandGuestShell final : public GuestShell {
 public:
  CommandGuestShell(ProcessRunner& runner, std::vector<std::string> argv,
                    std::function<void()> beforeFirstRun = {})
      : runner_(runner), argv_(std::move(argv)), beforeFirstRun_(std::move(beforeFirstRun)) {}
  GuestRun run(const std::string& script, int stdinFd, const std::string& stdinData,
               const std::atomic<bool>* cancel) override;

 private:
  ProcessRunner& runner_;
  std::vector<std::string> argv_;
  std::function<void()> beforeFirstRun_;
};

// banger-agent's POST /exec: the script and its stdin as a chunked body, the result as the
// answer. `connect` opens a connection to the agent. An agent that turns /exec down or
// cannot be reached before a script starts (an image made by an older banger) leaves this
// and every later run to `fallback`.
class AgentGuestShell final : public GuestShell {
 public:
  AgentGuestShell(std::function<StreamSocket()> connect, GuestShell& fallback)
      : connect_(std::move(connect)), fallback_(fallback) {}
  GuestRun run(const std::string& script, int stdinFd, const std::string& stdinData,
               const std::atomic<bool>* cancel) override;
  // Whether the runs so far went through the agent.
  bool throughAgent() const { return agentRuns_; }

 private:
  // nullopt: the agent took no script, and nothing was read from stdinFd.
  std::optional<GuestRun> tryRun(const std::string& script, int stdinFd,
                                 const std::string& stdinData, const std::atomic<bool>* cancel);

  std::function<StreamSocket()> connect_;
  GuestShell& fallback_;
  bool agentRuns_ = true;
};

}  // namespace banger::vm
