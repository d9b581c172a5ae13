#include "banger/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "banger/errors.h"
#include "banger/files.h"

extern char** environ;

namespace banger {
namespace {
using Clock = std::chrono::steady_clock;

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() {
    if (pipe2(fds, O_CLOEXEC) != 0)
      fail(ErrorCode::Failed, std::string("pipe: ") + std::strerror(errno));
  }
  ~Pipe() {
    closeEnd(0);
    closeEnd(1);
  }
  void closeEnd(int i) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
};

// argv, envp and the resolved program, kept alive for posix_spawn.
struct SpawnArguments {
  std::string program;
  std::vector<std::string> envStrings;
  std::vector<char*> argv, envp;

  SpawnArguments(const std::vector<std::string>& arguments,
                 const std::map<std::string, std::string>& extraEnv) {
    if (arguments.empty()) fail(ErrorCode::InvalidArgument, "no program to run");
    const char* pathVar = std::getenv("PATH");
    program = findExecutable(arguments[0], pathVar ? pathVar : "/usr/bin:/bin");
    if (program.empty())
      fail(ErrorCode::NotFound, "program '" + arguments[0] + "' not found in PATH");
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      if (extraEnv.count(entry.substr(0, entry.find('='))) == 0)
        envStrings.push_back(std::move(entry));
    }
    for (const auto& [k, v] : extraEnv) envStrings.push_back(k + "=" + v);
    for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : envStrings) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

// The attributes every child gets: default dispositions for the signals a service
// blocks or ignores, an empty mask, and `flags` (process group, session).
struct SpawnAttributes {
  posix_spawnattr_t attr;
  explicit SpawnAttributes(short flags) {
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (const int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) sigaddset(&defaults, s);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, static_cast<short>(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | flags));
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr); }
};

struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

// `verb` says what failed: "run", "start".
pid_t spawn(SpawnArguments& args, const FileActions& files, const SpawnAttributes& attributes,
            const char* verb) {
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args.program.c_str(), &files.actions, &attributes.attr,
                             args.argv.data(), args.envp.data());
  if (rc != 0)
    fail(ErrorCode::Failed,
         std::string("cannot ") + verb + " " + args.program + ": " + std::strerror(rc));
  return pid;
}

// Splits a pipe's bytes into lines for a sink, or captures them whole.
class OutputChannel {
 public:
  OutputChannel(std::string* capture, const std::function<void(std::string_view)>* lines)
      : capture_(capture), lines_(lines) {}
  void take(const char* data, size_t size) {
    if (capture_ != nullptr) capture_->append(data, size);
    if (lines_ == nullptr || !*lines_) return;
    pending_.append(data, size);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      (*lines_)(std::string_view(pending_).substr(start, nl - start));
    pending_.erase(0, start);
    while (pending_.size() >= OutputSink::kMaxLine) {
      (*lines_)(std::string_view(pending_).substr(0, OutputSink::kMaxLine));
      pending_.erase(0, OutputSink::kMaxLine);
    }
  }
  void finish() {
    if (lines_ != nullptr && *lines_ && !pending_.empty()) (*lines_)(pending_);
    pending_.clear();
  }

 private:
  std::string* capture_;
  const std::function<void(std::string_view)>* lines_;
  std::string pending_;
};

// Runs `command` with its output going to two channels; the heart of run() and stream().
ProcessResult execute(const Command& command, OutputChannel& outChannel, OutputChannel& errChannel,
                      const std::atomic<bool>* cancel) {
  SpawnArguments args(command.argv, command.extraEnv);
  Pipe in, out, err;
  FileActions files;
  posix_spawn_file_actions_adddup2(&files.actions,
                                   command.stdinFd >= 0 ? command.stdinFd : in.fds[0], 0);
  posix_spawn_file_actions_adddup2(&files.actions,
                                   command.stdoutFd >= 0 ? command.stdoutFd : out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&files.actions, err.fds[1], 2);
  if (!command.workingDirectory.empty())
    posix_spawn_file_actions_addchdir_np(&files.actions, command.workingDirectory.c_str());
  const pid_t pid = spawn(args, files, SpawnAttributes(POSIX_SPAWN_SETPGROUP), "run");
  in.closeEnd(0);
  out.closeEnd(1);
  err.closeEnd(1);
  if (command.stdoutFd >= 0) out.closeEnd(0);  // the caller reads stdout itself
  // Readable once the child has exited, even while a grandchild keeps the pipes open.
  const int exited = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));

  ProcessResult result;
  std::string_view toWrite = command.stdinData ? std::string_view(*command.stdinData) : "";
  if (toWrite.empty()) in.closeEnd(1);
  if (in.fds[1] >= 0) fcntl(in.fds[1], F_SETFL, O_NONBLOCK);
  const auto start = Clock::now();
  std::optional<Clock::time_point> termSentAt, exitedAt;
  auto signalGroup = [pid](int signal) { kill(-pid, signal); };

  while (out.fds[0] >= 0 || err.fds[0] >= 0) {
    const auto now = Clock::now();
    // A stop was asked for: SIGTERM now, SIGKILL after the grace period.
    if (!termSentAt) {
      if (command.timeout.count() > 0 && now - start >= command.timeout) result.timedOut = true;
      if (cancel != nullptr && cancel->load()) result.canceled = true;
      if (result.timedOut || result.canceled) {
        signalGroup(SIGTERM);
        termSentAt = now;
      }
    } else if (now - *termSentAt >= command.killGrace) {
      signalGroup(SIGKILL);
    }
    // The child is gone but something it left holds the pipes: take what is there, stop.
    if (exitedAt && now - *exitedAt >= std::chrono::milliseconds(200)) break;

    std::vector<pollfd> fds;
    if (out.fds[0] >= 0) fds.push_back({out.fds[0], POLLIN, 0});
    if (err.fds[0] >= 0) fds.push_back({err.fds[0], POLLIN, 0});
    if (in.fds[1] >= 0) fds.push_back({in.fds[1], POLLOUT, 0});
    if (exited >= 0 && !exitedAt) fds.push_back({exited, POLLIN, 0});
    const bool watching =
        command.timeout.count() > 0 || cancel != nullptr || termSentAt || exitedAt;
    if (poll(fds.data(), fds.size(), watching ? 50 : -1) < 0 && errno != EINTR) break;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == exited) {
        exitedAt = Clock::now();
      } else if (p.fd == in.fds[1]) {
        const ssize_t n = write(p.fd, toWrite.data(), toWrite.size());
        if (n > 0) toWrite.remove_prefix(static_cast<size_t>(n));
        if (n < 0 || toWrite.empty()) in.closeEnd(1);
      } else {
        char buffer[65536];
        const ssize_t n = read(p.fd, buffer, sizeof buffer);
        Pipe& pipe = p.fd == out.fds[0] ? out : err;
        if (n <= 0) {
          pipe.closeEnd(0);
        } else {
          (&pipe == &out ? outChannel : errChannel).take(buffer, static_cast<size_t>(n));
        }
      }
    }
  }
  outChannel.finish();
  errChannel.finish();
  if (termSentAt) signalGroup(SIGKILL);  // whatever of the group is left
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exited >= 0) close(exited);
  if (WIFEXITED(status)) {
    result.exitCode = result.timedOut || result.canceled ? -1 : WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.termSignal = WTERMSIG(status);
  }
  return result;
}
}  // namespace

ProcessResult SystemProcessRunner::run(const Command& command) {
  ProcessResult captured;
  OutputChannel out(&captured.out, nullptr), err(&captured.err, nullptr);
  ProcessResult result = execute(command, out, err, nullptr);
  result.out = std::move(captured.out);
  result.err = std::move(captured.err);
  return result;
}

OutputSink OutputSink::stderrInto(std::string* said, size_t limit) {
  OutputSink sink;
  sink.stderrLine = [said, limit](std::string_view line) {
    if (said->size() < limit) said->append(line).append("\n");
  };
  return sink;
}

ProcessResult SystemProcessRunner::stream(const Command& command, const OutputSink& sink,
                                          const std::atomic<bool>* cancel) {
  OutputChannel out(nullptr, &sink.stdoutLine), err(nullptr, &sink.stderrLine);
  return execute(command, out, err, cancel);
}

pid_t SystemProcessRunner::startDetached(const DetachedCommand& command) {
  SpawnArguments args(command.argv, command.extraEnv);
  FileActions files;
  // Each descriptor goes first to a number above every source and target, then to its
  // own: one mapping can then never overwrite the source of another.
  const int passed = static_cast<int>(command.fds.size());
  int highest = 2 + passed;
  for (const int ours : command.fds) highest = std::max(highest, ours);
  for (int i = 0; i < passed; ++i)
    posix_spawn_file_actions_adddup2(&files.actions, command.fds[static_cast<size_t>(i)],
                                     highest + 1 + i);
  for (int i = 0; i < passed; ++i)
    posix_spawn_file_actions_adddup2(&files.actions, highest + 1 + i, 3 + i);
  posix_spawn_file_actions_addopen(&files.actions, 0, "/dev/null", O_RDONLY, 0);
  const std::string log = command.logFile.empty() ? "/dev/null" : command.logFile;
  posix_spawn_file_actions_addopen(&files.actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&files.actions, 1, 2);
  // Nothing of the service's leaks into a process that outlives it.
  posix_spawn_file_actions_addclosefrom_np(&files.actions, 3 + passed);
  if (!command.workingDirectory.empty())
    posix_spawn_file_actions_addchdir_np(&files.actions, command.workingDirectory.c_str());
  return spawn(args, files, SpawnAttributes(POSIX_SPAWN_SETSID), "start");
}

}  // namespace banger
