#include "agent_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <list>
#include <stdexcept>
#include <vector>

namespace banger::guest {

namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  int fd;
  std::string in;
  std::string out;
  bool closeAfterWrite = false;
  Clock::time_point deadline;
};

}  // namespace

AgentServer::AgentServer(int listenFd, const AgentHandler& handler,
                         std::chrono::milliseconds deadline, ExecService* exec)
    : listenFd_(listenFd), handler_(handler), deadline_(deadline), exec_(exec) {
  if (::pipe2(wakeFds_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe failed");
  ::fcntl(listenFd_, F_SETFL, ::fcntl(listenFd_, F_GETFL) | O_NONBLOCK);
}

AgentServer::~AgentServer() {
  ::close(listenFd_);
  ::close(wakeFds_[0]);
  ::close(wakeFds_[1]);
}

void AgentServer::stop() {
  const char byte = 0;
  [[maybe_unused]] const ssize_t ignored = ::write(wakeFds_[1], &byte, 1);
}

void AgentServer::run() {
  std::list<Connection> connections;
  const auto answer = [&](Connection& c) {
    // Answers go out one at a time; pipelined requests wait in `in` until it is sent.
    const RequestParse parse = parseRequest(c.in);
    if (parse.state == RequestParse::State::Incomplete) return;
    if (parse.state == RequestParse::State::Refused) {
      c.out = renderAnswer(errorAnswer(parse.status, parse.reason), false, true);
      c.closeAfterWrite = true;
    } else if (const HttpRequest& request = parse.request;
               request.path == "/exec" || request.chunked) {
      int status = 400;
      std::string refusal = "POST /exec takes its script and stdin as a chunked body";
      if (request.path != "/exec") {
        status = 413;
        refusal = "a body is taken only at POST /exec";
      } else if (!exec_) {
        status = 404;
        refusal = "this agent runs no scripts";
      } else if (request.method != "POST") {
        status = 405;
        refusal = "use POST for /exec";
      } else if (request.chunked) {
        exec_->start(c.fd, c.in.substr(parse.consumed), request.expectContinue);
        c.fd = -1;  // the session owns it now
        return;
      }
      c.out = renderAnswer(errorAnswer(status, refusal), false, true);
      c.closeAfterWrite = true;
    } else {
      c.in.erase(0, parse.consumed);
      c.closeAfterWrite = !parse.request.keepAlive;
      c.out = renderAnswer(handler_.answer(parse.request), parse.request.method == "HEAD",
                           c.closeAfterWrite);
    }
    c.deadline = Clock::now() + deadline_;
  };
  for (;;) {
    std::vector<pollfd> fds{{wakeFds_[0], POLLIN, 0}, {listenFd_, POLLIN, 0}};
    for (const Connection& c : connections)
      fds.push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
    int timeout = -1;
    const auto now = Clock::now();
    for (const Connection& c : connections) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now).count() + 1;
      timeout = timeout < 0 ? static_cast<int>(std::max<long>(left, 0))
                            : std::min(timeout, static_cast<int>(std::max<long>(left, 0)));
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
      throw std::runtime_error("poll failed");
    if (fds[0].revents) break;
    std::size_t index = 2;
    for (auto it = connections.begin(); it != connections.end(); ++index) {
      Connection& c = *it;
      bool drop = Clock::now() > c.deadline;
      const short events = fds[index].revents;
      if (!drop && (events & (POLLERR | POLLNVAL))) drop = true;
      if (!drop && c.out.empty() && (events & (POLLIN | POLLHUP))) {
        char buffer[4096];
        const ssize_t got = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (got <= 0) {
          drop = got == 0 || (errno != EAGAIN && errno != EINTR);
        } else {
          c.in.append(buffer, static_cast<std::size_t>(got));
          answer(c);
        }
      } else if (!drop && !c.out.empty() && (events & (POLLOUT | POLLHUP))) {
        const ssize_t sent = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno != EAGAIN && errno != EINTR) {
          drop = true;
        } else if (sent > 0) {
          c.out.erase(0, static_cast<std::size_t>(sent));
          if (c.out.empty() && c.closeAfterWrite) drop = true;
          if (c.out.empty() && !drop) {
            c.deadline = Clock::now() + deadline_;
            answer(c);  // a request that was pipelined behind this one
          }
        }
      }
      if (drop || c.fd < 0) {  // c.fd < 0: handed to ExecService
        if (c.fd >= 0) ::close(c.fd);
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
    // Accepted after the loop above, which walks `fds` in step with `connections`.
    if (fds[1].revents & POLLIN) {
      const int client = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client >= 0 && connections.size() >= kMaxConnections) {
        ::close(client);  // the host asks one thing at a time; more is a flood
      } else if (client >= 0) {
        connections.push_back({client, "", "", false, Clock::now() + deadline_});
      }
    }
  }
  for (const Connection& c : connections) ::close(c.fd);
}

}  // namespace banger::guest
