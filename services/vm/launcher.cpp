#include "launcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include "banger/errors.h"

namespace banger::vm {

bool socketAnswers(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

pid_t socketOwner(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return 0;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  pid_t owner = 0;
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0)
    owner = credentials.pid;
  ::close(fd);
  return owner;
}

bool processAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // our child, now reaped
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

bool awaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!processAlive(pid)) return true;
  // A pidfd turns readable when the process ends, and always names this process even if
  // its pid is reused meanwhile.
  const int exited = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (exited >= 0) {
    pollfd p{exited, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
    }
    ::close(exited);
  }
  // Our child is reaped here. Another's (a VMM readopted after a restart of the service)
  // stays a zombie until its own parent reaps it, a moment later.
  while (processAlive(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return !processAlive(pid);
}

std::string tailOf(const std::string& file, size_t lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const std::string& line : last) out += (out.empty() ? "" : "\n") + line;
  return out;
}

void awaitApiSocket(const LaunchRequest& request, const std::string& what,
                    const std::function<bool()>& ended, std::chrono::milliseconds checkEvery,
                    const std::function<void()>& kill, const std::string& elsewhere) {
  using Clock = std::chrono::steady_clock;
  // The socket file appears at bind(), a moment before listen(): wait for a connection
  // that succeeds, not for the file.
  const auto start = Clock::now();
  const auto deadline = start + request.socketTimeout;
  auto lastCheck = start;
  while (!socketAnswers(request.apiSocket)) {
    const auto now = Clock::now();
    if (now - lastCheck >= checkEvery) {
      lastCheck = now;
      if (ended()) {
        const std::string log = tailOf(request.logFile, 5);
        fail(ErrorCode::Failed, what + " ended before its API socket " + request.apiSocket +
                                    " answered" + (log.empty() ? "" : ": " + log) +
                                    " (log: " + request.logFile + elsewhere + ")");
      }
    }
    if (now > deadline) {
      kill();
      fail(ErrorCode::Timeout, request.argv[0] + "'s API socket " + request.apiSocket +
                                   " did not answer within " +
                                   std::to_string(request.socketTimeout.count()) +
                                   " ms (log: " + request.logFile + ")");
    }
    // Firecracker listens a few milliseconds after it starts: look often at first, so a
    // create does not wait a poll interval for nothing, then settle down.
    std::this_thread::sleep_for(now - start < std::chrono::milliseconds(20)
                                    ? std::chrono::microseconds(250)
                                    : std::chrono::microseconds(2000));
  }
}

pid_t DetachedLauncher::launch(const LaunchRequest& request) {
  DetachedCommand command;
  command.argv = request.argv;
  command.logFile = request.logFile;
  const pid_t pid = runner_.startDetached(command);
  awaitApiSocket(
      request, request.argv[0], [pid] { return !processAlive(pid); }, std::chrono::milliseconds(0),
      [pid] {
        ::kill(pid, SIGKILL);
        processAlive(pid);  // reaps it
      },
      "");
  return pid;
}

}  // namespace banger::vm
