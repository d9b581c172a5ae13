#include "exec_service.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent_handler.h"
#include "chunked_body.h"

namespace banger::guest {

namespace {

// Stdin read ahead of the script is held in its pipe, enlarged to this: kernel pages, where
// a buffer of the agent's own as large cost a fresh thread's arena about 400 page faults
// at each first copy after boot (9-16 ms of the guest's CPU here, while the copy is what a
// `vm run` waits for).
constexpr int kStdinPipeBytes = 1 << 20;
// What the agent itself holds decoded and not yet in the pipe: one read from the socket.
constexpr std::size_t kStdinAhead = 64 * 1024;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

void sendAll(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd writable{fd, POLLOUT, 0};
      if (::poll(&writable, 1, 5000) <= 0) return;  // a host that reads nothing loses it
    } else {
      return;
    }
  }
}

void answer(int fd, int status, const std::string& body) {
  sendAll(fd, renderAnswer({.status = status, .body = body}, false, true));
}

void refuse(int fd, int status, const std::string& reason) {
  const HttpAnswer refusal = errorAnswer(status, reason);
  sendAll(fd, renderAnswer(refusal, false, true));
}

// The script, as `sh -c`, in a session of its own (so the whole of it can be killed),
// stdout discarded. Returns its pid, or -1 with errno.
pid_t spawnScript(const std::string& script, const std::vector<std::string>& environment,
                  int stdinFd, int stderrFd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdinFd, STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stderrFd, STDERR_FILENO);
  posix_spawn_file_actions_addchdir_np(&actions, "/");
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attributes, &all);
  std::vector<char*> envp;
  for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                        const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = -1;
  const int failed = ::posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0) {
    errno = failed;
    return -1;
  }
  return pid;
}

}  // namespace

bool execPeerAllowed(const sockaddr_storage& address) {
  if (address.ss_family == AF_UNIX) return true;
  if (address.ss_family != AF_VSOCK) return false;
  return reinterpret_cast<const sockaddr_vm&>(address).svm_cid == VMADDR_CID_HOST;
}

ExecService::ExecService(std::vector<std::string> environment)
    : environment_(std::move(environment)) {
  if (::pipe2(stopFds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  // A script that stops reading its stdin must not end the whole agent with SIGPIPE when
  // it is written to; its own shell gets the default back (POSIX_SPAWN_SETSIGDEF).
  ::signal(SIGPIPE, SIG_IGN);
}

ExecService::~ExecService() {
  ::close(stopFds_[1]);
  for (Session& session : sessions_) session.thread.join();
  ::close(stopFds_[0]);
}

void ExecService::start(int fd, std::string pending, bool expectContinue) {
  const std::lock_guard lock(mutex_);
  sessions_.remove_if([](Session& session) {
    if (!session.done) return false;
    session.thread.join();
    return true;
  });
  if (sessions_.size() >= kMaxExecSessions) {
    refuse(fd, 503, "too many scripts under way");
    ::close(fd);
    return;
  }
  Session& session = sessions_.emplace_back();
  session.thread = std::thread([this, fd, pending = std::move(pending), expectContinue, &session] {
    serve(fd, pending, expectContinue);
    session.done = true;
  });
}

void ExecService::serve(int rawFd, std::string pending, bool expectContinue) const {
  const Fd socket(rawFd);
  const int fd = socket.get();
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0 || !execPeerAllowed(peer))
    return refuse(fd, 403, "only the host runs scripts through the agent");
  if (expectContinue) sendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");

  ChunkedDecoder decoder;
  std::string payload;  // decoded and not yet taken: the script, then the script's stdin
  // At most kStdinAhead, one read beyond it and what was written but not yet moved down.
  payload.reserve(2 * kStdinAhead + kStdinAhead / 4);
  std::size_t written = 0;  // of payload, to the script's stdin
  bool bodyDone = false;
  const auto decode = [&](std::string_view bytes) {
    if (bodyDone) return true;  // what follows the body is not ours
    const ChunkedDecoder::State state = decoder.feed(bytes, payload);
    bodyDone = state == ChunkedDecoder::State::Done;
    return state != ChunkedDecoder::State::Refused;
  };
  if (!decode(pending)) return refuse(fd, 400, decoder.reason());

  Fd stdinWrite, stderrRead, pidFd;
  pid_t pid = -1;
  int status = 0;
  bool exited = false;
  std::string stderrText;
  const auto killScript = [&] {
    if (pid > 0 && !exited) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  };
  for (;;) {
    if (pid < 0) {
      const std::size_t nul = payload.find('\0');
      if (nul == std::string::npos && (payload.size() > kMaxExecScript || bodyDone))
        return refuse(fd, payload.size() > kMaxExecScript ? 413 : 400,
                      payload.size() > kMaxExecScript ? "the script exceeds 64 KiB"
                                                      : "the body has no NUL after the script");
      if (nul != std::string::npos) {
        int in[2], err[2];
        if (::pipe2(in, O_CLOEXEC) != 0) return refuse(fd, 500, "pipe failed");
        stdinWrite.reset(in[1]);
        if (::pipe2(err, O_CLOEXEC) != 0) {
          ::close(in[0]);
          return refuse(fd, 500, "pipe failed");
        }
        stderrRead.reset(err[0]);
        pid = spawnScript(payload.substr(0, nul), environment_, in[0], err[1]);
        const int spawnError = errno;
        ::close(in[0]);
        ::close(err[1]);
        if (pid < 0)
          return refuse(fd, 500, std::string("cannot start /bin/sh: ") + std::strerror(spawnError));
        pidFd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (pidFd.get() < 0) {
          killScript();
          return refuse(fd, 500, "pidfd_open failed");
        }
        ::fcntl(stdinWrite.get(), F_SETFL, O_NONBLOCK);
        ::fcntl(stdinWrite.get(), F_SETPIPE_SZ, kStdinPipeBytes);  // else the default 64 KiB
        payload.erase(0, nul + 1);
      }
    }
    if (pid > 0 && bodyDone && payload.empty()) stdinWrite.reset();  // the script sees its end
    if (exited) break;

    pollfd fds[5] = {{stopFds_[0], POLLIN, 0},
                     {fd, 0, 0},
                     {stdinWrite.get(), POLLOUT, 0},
                     {stderrRead.get(), POLLIN, 0},
                     {pidFd.get(), POLLIN, 0}};
    if (!bodyDone && payload.size() - written < kStdinAhead) fds[1].events = POLLIN;
    if (payload.size() == written) fds[2].fd = -1;
    if (::poll(fds, 5, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents) return killScript();  // the agent is stopping
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[64 * 1024];
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
        return killScript();  // the host went away mid-body: nothing to answer
      if (got > 0 && !decode({buffer, static_cast<std::size_t>(got)})) {
        killScript();
        return refuse(fd, 400, decoder.reason());
      }
    }
    if (fds[2].revents) {
      const ssize_t wrote =
          ::write(stdinWrite.get(), payload.data() + written, payload.size() - written);
      if (wrote > 0) {
        written += static_cast<std::size_t>(wrote);
        // Taken from the front in pieces: moved down once in a while, not at every write.
        if (written == payload.size() || written >= kStdinAhead / 4) {
          payload.erase(0, written);
          written = 0;
        }
      } else if (errno != EAGAIN && errno != EINTR) {
        stdinWrite.reset();  // the script stopped reading: the rest is dropped
      }
    }
    if (pid > 0 && stdinWrite.get() < 0) {
      payload.clear();
      written = 0;
    }
    if (fds[3].revents) {
      char buffer[4096];
      const ssize_t got = ::read(stderrRead.get(), buffer, sizeof buffer);
      if (got > 0 && stderrText.size() < kMaxExecStderr)
        stderrText.append(buffer, std::min<std::size_t>(static_cast<std::size_t>(got),
                                                        kMaxExecStderr - stderrText.size()));
      if (got == 0) stderrRead.reset();
    }
    if (fds[4].revents) exited = ::waitpid(pid, &status, WNOHANG) == pid;
  }
  // What the script wrote to stderr before it ended; a child it left behind holding
  // stderr open does not hold up the answer.
  if (stderrRead.get() >= 0) {
    ::fcntl(stderrRead.get(), F_SETFL, O_NONBLOCK);
    char buffer[4096];
    ssize_t got;
    while (stderrText.size() < kMaxExecStderr &&
           (got = ::read(stderrRead.get(), buffer, sizeof buffer)) > 0)
      stderrText.append(buffer, std::min<std::size_t>(static_cast<std::size_t>(got),
                                                      kMaxExecStderr - stderrText.size()));
  }
  const nlohmann::json result = {{"exit_code", WIFEXITED(status) ? WEXITSTATUS(status) : -1},
                                 {"signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0},
                                 {"stderr", stderrText}};
  answer(fd, 200, result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace banger::guest
