#include "guest_shell.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "agent_client.h"
#include "banger/errors.h"

namespace banger::vm {

GuestRun CommandGuestShell::run(const std::string& script, int stdinFd,
                                const std::string& stdinData, const std::atomic<bool>* cancel) {
  if (beforeFirstRun_) std::exchange(beforeFirstRun_, {})();
  Command command(argv_);
  command.argv.push_back(script);
  if (stdinFd >= 0) {
    if (!stdinData.empty())
      fail(ErrorCode::Failed, "a guest command takes its stdin from data or a stream, not both");
    command.stdinFd = stdinFd;
  } else {
    command.stdinData = stdinData;
  }
  GuestRun out;
  const ProcessResult result =
      runner_.stream(command, OutputSink::stderrInto(&out.err, 4096), cancel);
  out.exitCode = result.exitCode;
  out.termSignal = result.termSignal;
  out.canceled = result.canceled;
  return out;
}

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMaxAnswer = 64 * 1024;
constexpr int kCancelPollMs = 100;
// An agent that takes the script answers 100 Continue at once; one that cannot (an older
// agent) answers its refusal as fast.
constexpr auto kAgentAnswerWait = std::chrono::seconds(10);

std::string chunk(std::string_view data) {
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size).append(data).append("\r\n");
}

// The agent's end of one POST /exec after its 100 Continue.
class ExecStream {
 public:
  ExecStream(StreamSocket socket, const std::atomic<bool>* cancel)
      : socket_(std::move(socket)), cancel_(cancel) {}

  bool canceled() const { return cancel_ && cancel_->load(); }

  // Sends `bytes` unless the agent answers (or hangs up) first: false then.
  bool send(std::string_view bytes) {
    while (!bytes.empty() && !answered_) {
      pollfd p{socket_.fd(), POLLOUT | POLLIN, 0};
      if (::poll(&p, 1, kCancelPollMs) < 0 && errno != EINTR) return false;
      if (canceled()) return false;
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) answered_ = true;
      if (answered_ || !(p.revents & POLLOUT)) continue;
      const ssize_t n = ::send(socket_.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
      if (n < 0 && errno != EAGAIN && errno != EINTR) answered_ = true;
    }
    return !answered_;
  }

  // The rest of the script's stdin: what `fd` gives up to its end. False when the agent
  // answered or hung up, or the run was canceled, first.
  bool sendFrom(int fd) {
    char buffer[kChunk];
    for (;;) {
      pollfd p[2] = {{fd, POLLIN, 0}, {socket_.fd(), POLLIN, 0}};
      if (::poll(p, 2, kCancelPollMs) < 0 && errno != EINTR) return false;
      if (canceled() || (p[1].revents != 0)) return false;
      if (!p[0].revents) continue;
      const ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) return true;
      if (!send(chunk({buffer, static_cast<std::size_t>(got)}))) return false;
    }
  }

  // The result, however the body ended.
  GuestRun result() {
    GuestRun out;
    std::string received;
    char buffer[16384];
    for (;;) {
      if (canceled()) {
        out.canceled = true;
        return out;
      }
      pollfd p{socket_.fd(), POLLIN, 0};
      const int ready = ::poll(&p, 1, kCancelPollMs);
      if (ready < 0 && errno != EINTR)
        fail(ErrorCode::Failed, std::string("waiting for the agent: ") + std::strerror(errno));
      if (ready <= 0) continue;
      const ssize_t n = ::recv(socket_.fd(), buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      const bool closed = n <= 0;
      if (!closed) received.append(buffer, static_cast<std::size_t>(n));
      if (auto answer = parseHttpAnswer(received, closed, kMaxAnswer, "the agent")) {
        if (answer->status != 200)
          fail(ErrorCode::Failed, "the agent answered " + std::to_string(answer->status) +
                                      " to a script: " + answer->body.substr(0, 200));
        const AgentExecResult result = parseAgentExecResult(answer->body);
        out.exitCode = result.exitCode;
        out.termSignal = result.signal;
        out.err = result.stderrText;
        return out;
      }
    }
  }

 private:
  StreamSocket socket_;
  const std::atomic<bool>* cancel_;
  bool answered_ = false;
};

}  // namespace

std::optional<GuestRun> AgentGuestShell::tryRun(const std::string& script, int stdinFd,
                                                const std::string& stdinData,
                                                const std::atomic<bool>* cancel) {
  std::optional<StreamSocket> socket;
  try {
    socket.emplace(connect_());
    socket->setDeadline(StreamSocket::Clock::now() + kAgentAnswerWait);
    socket->send(
        "POST /exec HTTP/1.1\r\nHost: banger-agent\r\nTransfer-Encoding: chunked\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n");
    // "HTTP/1.1 100 Continue\r\n\r\n", or the refusal of an agent without /exec.
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 256) {
      const std::string line = socket->line(256);
      if (line.empty()) break;
      head += line;
    }
    if (head.rfind("HTTP/1.1 100 ", 0) != 0) return std::nullopt;
  } catch (const Error&) {
    return std::nullopt;  // no agent to ask; ssh says whether the guest is reachable at all
  }
  ExecStream stream(std::move(*socket), cancel);
  if (stream.send(chunk(script + '\0' + stdinData)) && (stdinFd < 0 || stream.sendFrom(stdinFd)))
    stream.send("0\r\n\r\n");
  return stream.result();
}

GuestRun AgentGuestShell::run(const std::string& script, int stdinFd, const std::string& stdinData,
                              const std::atomic<bool>* cancel) {
  if (agentRuns_) {
    if (std::optional<GuestRun> done = tryRun(script, stdinFd, stdinData, cancel)) return *done;
    agentRuns_ = false;
  }
  return fallback_.run(script, stdinFd, stdinData, cancel);
}

}  // namespace banger::vm
