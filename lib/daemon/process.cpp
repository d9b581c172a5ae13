#include "banger/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "banger/errors.h"
#include "banger/files.h"

extern char** environ;

namespace banger {

namespace {
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

std::vector<std::string> buildEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    const auto key = entry.substr(0, entry.find('='));
    if (extra.count(key) == 0) env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}
}  // namespace

ProcessResult SystemProcessRunner::run(const Command& command) {
  if (command.argv.empty()) fail(ErrorCode::InvalidArgument, "no program to run");
  const char* pathVar = std::getenv("PATH");
  const std::string program = findExecutable(command.argv[0], pathVar ? pathVar : "/usr/bin:/bin");
  if (program.empty())
    fail(ErrorCode::NotFound, "program '" + command.argv[0] + "' not found in PATH");

  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fds[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);
  if (!command.workingDirectory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, command.workingDirectory.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  for (const auto& a : command.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto envStrings = buildEnvironment(command.extraEnv);
  std::vector<char*> envp;
  for (auto& e : envStrings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) fail(ErrorCode::Failed, "cannot run " + program + ": " + std::strerror(rc));
  in.closeEnd(0);
  out.closeEnd(1);
  err.closeEnd(1);

  ProcessResult result;
  std::string_view toWrite = command.stdinData ? std::string_view(*command.stdinData) : "";
  if (toWrite.empty()) in.closeEnd(1);
  fcntl(in.fds[1], F_SETFL, O_NONBLOCK);
  const auto deadline = std::chrono::steady_clock::now() + command.timeout;
  while (out.fds[0] >= 0 || err.fds[0] >= 0) {
    std::vector<pollfd> fds;
    if (out.fds[0] >= 0) fds.push_back({out.fds[0], POLLIN, 0});
    if (err.fds[0] >= 0) fds.push_back({err.fds[0], POLLIN, 0});
    if (in.fds[1] >= 0) fds.push_back({in.fds[1], POLLOUT, 0});
    int timeoutMs = -1;
    if (command.timeout.count() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        kill(pid, SIGKILL);
        result.timedOut = true;
        break;
      }
      timeoutMs = static_cast<int>(left.count());
    }
    if (poll(fds.data(), fds.size(), timeoutMs) < 0 && errno != EINTR) break;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in.fds[1]) {
        const ssize_t n = write(p.fd, toWrite.data(), toWrite.size());
        if (n > 0) toWrite.remove_prefix(static_cast<size_t>(n));
        if (n < 0 || toWrite.empty()) in.closeEnd(1);
        continue;
      }
      char buffer[65536];
      const ssize_t n = read(p.fd, buffer, sizeof buffer);
      Pipe& pipe = p.fd == out.fds[0] ? out : err;
      if (n <= 0) {
        pipe.closeEnd(0);
      } else {
        (&pipe == &out ? result.out : result.err).append(buffer, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exitCode = result.timedOut ? -1 : WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.termSignal = WTERMSIG(status);
  }
  return result;
}

}  // namespace banger
