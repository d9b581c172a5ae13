#include "http.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace fcfake {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return std::string(text);
}

// Messages quote the client's bytes, which need not be UTF-8: replaced, never thrown on.
std::string jsonObject(const char* key, const std::string& message) {
  return nlohmann::json{{key, message}}.dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
}

HttpResponse httpError(int status, const std::string& message) {
  return {status, jsonObject("error", message), false};
}

}  // namespace

HttpResponse faultResponse(int status, const std::string& message) {
  return {status, jsonObject("fault_message", message), false};
}

std::string serialize(const HttpResponse& response) {
  std::string out = "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += " \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n";
  if (response.deprecation) out += "Deprecation: true\r\n";
  if (response.status != 204) {
    out += "Content-Type: application/json\r\nContent-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n\r\n";
    out += response.body;
  } else {
    out += "\r\n";
  }
  return out;
}

HttpConnection::HttpConnection(int fd, std::size_t maxPayload) : fd_(fd), maxPayload_(maxPayload) {
  ucred cred{};
  socklen_t length = sizeof cred;
  if (getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &length) == 0) peerUid_ = cred.uid;
}

HttpConnection::~HttpConnection() { close(fd_); }

bool HttpConnection::fill() {
  char chunk[16384];
  for (;;) {
    const ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

std::optional<HttpRequest> HttpConnection::next(std::optional<HttpResponse>& error) {
  const std::size_t headerEnd = buffer_.find("\r\n\r\n");
  if (headerEnd == std::string::npos) {
    if (buffer_.size() > 64 * 1024) error = httpError(400, "Invalid HTTP header: too long");
    return std::nullopt;
  }
  const std::string_view head(buffer_.data(), headerEnd);
  const std::size_t lineEnd = head.find("\r\n");
  const std::string_view requestLine = head.substr(0, lineEnd);
  const std::size_t firstSpace = requestLine.find(' ');
  const std::size_t lastSpace = requestLine.rfind(' ');
  if (firstSpace == std::string_view::npos || firstSpace == lastSpace ||
      requestLine.substr(lastSpace + 1) != "HTTP/1.1") {
    error = httpError(400, "Invalid HTTP request line");
    return std::nullopt;
  }
  HttpRequest request;
  request.peerUid = peerUid_;
  request.method = std::string(requestLine.substr(0, firstSpace));
  std::string target(requestLine.substr(firstSpace + 1, lastSpace - firstSpace - 1));
  if (const std::size_t query = target.find('?'); query != std::string::npos) target.resize(query);
  // Absolute form (http://localhost/path) is what curl sends with --unix-socket only
  // when asked; micro-http accepts both.
  if (target.rfind("http://", 0) == 0) {
    const std::size_t slash = target.find('/', 7);
    target = slash == std::string::npos ? "/" : target.substr(slash);
  }
  request.path = target;

  std::size_t contentLength = 0;
  bool hasLength = false;
  std::size_t at = lineEnd == std::string_view::npos ? head.size() : lineEnd + 2;
  while (at < head.size()) {
    std::size_t end = head.find("\r\n", at);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(at, end - at);
    at = end + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      error = httpError(400, "Invalid HTTP header");
      return std::nullopt;
    }
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      char* rest = nullptr;
      errno = 0;
      const unsigned long long parsed = std::strtoull(value.c_str(), &rest, 10);
      if (value.empty() || *rest != '\0' || errno != 0) {
        error = httpError(400, "Invalid value. Key: Content-Length; Value: " + value);
        return std::nullopt;
      }
      contentLength = static_cast<std::size_t>(parsed);
      hasLength = true;
    } else if (name == "transfer-encoding" && lower(value) == "chunked") {
      error = httpError(400, "Unsupported header. Key: Transfer-Encoding; Value: chunked");
      return std::nullopt;
    }
  }
  if (contentLength > maxPayload_) {
    error = httpError(400, "Request payload with size " + std::to_string(contentLength) +
                               " is larger than the limit of " + std::to_string(maxPayload_) +
                               " allowed by server.\nAll previous unanswered requests will be "
                               "dropped.");
    return std::nullopt;
  }
  const std::size_t total = headerEnd + 4 + contentLength;
  if (buffer_.size() < total) return std::nullopt;
  if (hasLength && contentLength > 0) request.body = buffer_.substr(headerEnd + 4, contentLength);
  buffer_.erase(0, total);
  return request;
}

void HttpConnection::send(const HttpResponse& response) {
  outgoing_ += serialize(response);
  flush();
}

bool HttpConnection::flush() {
  while (pendingWrite()) {
    const ssize_t n = ::send(fd_, outgoing_.data() + sent_, outgoing_.size() - sent_,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  outgoing_.clear();
  sent_ = 0;
  return true;
}

namespace {

// micro-http's own bytes for the connection over its limit.
constexpr std::string_view kServerFull =
    "HTTP/1.1 503\r\nServer: Firecracker API\r\nConnection: close\r\nContent-Length: "
    "40\r\n\r\n{ \"error\": \"Too many open connections\" }";
constexpr std::size_t kMaxConnections = 10;

struct Served {
  std::unique_ptr<HttpConnection> connection;
  bool closing = false;  // closed once its queued answers are written
};

// Answers every whole request buffered on `served`; false when it is to be dropped now.
bool answer(Served& served, const std::function<HttpResponse(const HttpRequest&)>& handle) {
  HttpConnection& connection = *served.connection;
  if (!connection.fill()) return false;
  for (;;) {
    std::optional<HttpResponse> error;
    std::optional<HttpRequest> request = connection.next(error);
    if (error) {
      connection.send(*error);
      served.closing = true;
      break;
    }
    if (!request) break;
    connection.send(handle(*request));
  }
  return true;
}

}  // namespace

void serveHttp(int listener, int stopFd, std::size_t maxPayload,
               const std::function<HttpResponse(const HttpRequest&)>& handle) {
  std::list<Served> connections;
  for (;;) {
    std::vector<pollfd> fds = {{stopFd, POLLIN, 0}, {listener, POLLIN, 0}};
    for (const Served& served : connections)
      fds.push_back({served.connection->fd(),
                     static_cast<short>(served.connection->pendingWrite() ? POLLOUT : POLLIN), 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    std::size_t index = 2;
    for (auto it = connections.begin(); it != connections.end(); ++index) {
      const short events = fds[index].revents;
      bool keep = true;
      if (events & (POLLHUP | POLLERR))
        keep = false;
      else if (events & POLLOUT)
        keep = it->connection->flush();
      else if (events & POLLIN)
        keep = answer(*it, handle);
      if (it->closing && !it->connection->pendingWrite()) keep = false;
      it = keep ? std::next(it) : connections.erase(it);
    }
    if (fds[1].revents & POLLIN) {
      const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) continue;
      if (connections.size() >= kMaxConnections) {
        [[maybe_unused]] ssize_t n =
            ::send(fd, kServerFull.data(), kServerFull.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
      } else {
        connections.push_back({std::make_unique<HttpConnection>(fd, maxPayload)});
      }
    }
  }
}

}  // namespace fcfake
