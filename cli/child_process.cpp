#include "child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sigint_scope.h"

extern char** environ;

namespace banger::cli {
namespace {

std::atomic<pid_t> child{0};
std::atomic<bool> sawInterrupt{false};

void onInterrupt(int) {
  sawInterrupt = true;
  if (const pid_t pid = child.load(); pid > 0) ::kill(pid, SIGTERM);
}

}  // namespace

int runChild(const std::vector<std::string>& argv, bool* interrupted) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  sawInterrupt = false;
  const SigintScope scope(onInterrupt);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0) {
    throw std::runtime_error(
        std::string("cannot run ") + argv[0] + ": " + std::strerror(rc) +
        (argv[0] == "ssh" ? " (install OpenSSH's client: apt install openssh-client)" : ""));
  }
  child = pid;
  if (sawInterrupt) ::kill(pid, SIGTERM);  // the interrupt came before the pid was known
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  child = 0;
  if (interrupted != nullptr) *interrupted = sawInterrupt;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace banger::cli
