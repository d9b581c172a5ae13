// Starting Firecracker so that it outlives the Vm service (DESIGN §1): in a transient
// systemd unit of the user's manager when there is one, else detached (own session, no
// inherited descriptors) and tracked by pid and API socket. Either way launch() returns
// once the API socket accepts a connection, or throws with the end of Firecracker's log.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "banger/process.h"

namespace banger::vm {

struct LaunchRequest {
  std::string unitName;     // banger-vm-<name>.service
  std::string description;  // "VM <name>"
  std::vector<std::string> argv;
  std::string logFile;  // Firecracker's stdout and stderr
  std::string apiSocket;
  std::chrono::milliseconds socketTimeout{5000};
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  virtual pid_t launch(const LaunchRequest& request) = 0;
};

class DetachedLauncher final : public Launcher {
 public:
  explicit DetachedLauncher(ProcessRunner& runner) : runner_(runner) {}
  pid_t launch(const LaunchRequest& request) override;

 private:
  ProcessRunner& runner_;
};

// Returns once the API socket accepts a connection. At most every `checkEvery` `ended`
// says whether `what` (Firecracker, as the error names it) is already gone: an error with
// the end of its log, and `elsewhere` (", or ...") on where else to look. At the deadline
// `kill` ends it and the error says so.
void awaitApiSocket(const LaunchRequest& request, const std::string& what,
                    const std::function<bool()>& ended, std::chrono::milliseconds checkEvery,
                    const std::function<void()>& kill, const std::string& elsewhere);

// Whether a Unix stream socket at `path` accepts a connection now.
bool socketAnswers(const std::string& path);

// The pid of the process listening on the Unix socket at `path` (SO_PEERCRED), or 0.
pid_t socketOwner(const std::string& path);

// Whether `pid` is alive (a zombie child of ours is reaped and counts as gone).
bool processAlive(pid_t pid);
// Waits until `pid` has ended and is reaped, at most `timeout`, woken by its exit rather
// than by a poll interval; reaps it where it is our child. False when it is still there.
bool awaitExit(pid_t pid, std::chrono::milliseconds timeout);

// The last `lines` lines of a log file, for error messages.
std::string tailOf(const std::string& file, size_t lines);

}  // namespace banger::vm
