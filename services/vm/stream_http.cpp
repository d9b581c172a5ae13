#include "stream_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "banger/errors.h"

namespace banger::vm {
namespace {

constexpr std::size_t kMaxHead = 64 << 10;

bool equalsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != lower[i]) return false;
  return true;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

[[noreturn]] void refuse(const std::string& peer, const std::string& why) {
  fail(ErrorCode::InvalidArgument, peer + "'s answer " + why);
}

struct Head {
  int status = 0;
  bool http11 = false;
  std::optional<std::size_t> contentLength;
  std::optional<bool> connectionClose;
};

Head parseHead(std::string_view head, std::size_t maxBody, const std::string& peer) {
  Head out;
  const std::size_t lineEnd = std::min(head.find("\r\n"), head.size());
  const std::string_view statusLine = head.substr(0, lineEnd);
  // "HTTP/1.1 204" or "HTTP/1.1 204 No Content"
  if (statusLine.size() < 12 || statusLine.substr(0, 7) != "HTTP/1." ||
      (statusLine[7] != '0' && statusLine[7] != '1') || statusLine[8] != ' ' ||
      (statusLine.size() > 12 && statusLine[12] != ' '))
    refuse(peer, "is not HTTP/1.x");
  out.http11 = statusLine[7] == '1';
  const std::string_view code = statusLine.substr(9, 3);
  if (std::from_chars(code.data(), code.data() + 3, out.status).ptr != code.data() + 3 ||
      out.status < 100)
    refuse(peer, "has no status code");

  std::size_t at = lineEnd + 2;
  while (at < head.size()) {
    const std::size_t end = std::min(head.find("\r\n", at), head.size());
    const std::string_view line = head.substr(at, end - at);
    at = end + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) refuse(peer, "has a header without a name");
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trimmed(line.substr(colon + 1));
    if (equalsLower(name, "content-length")) {
      std::size_t length = 0;
      const auto [end2, error] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || error != std::errc() || end2 != value.data() + value.size())
        refuse(peer, "has a Content-Length that is not a number");
      if (out.contentLength && *out.contentLength != length)
        refuse(peer, "has two different Content-Lengths");
      if (length > maxBody)
        refuse(peer, "is " + std::to_string(length) + " bytes, over the " +
                         std::to_string(maxBody) + " expected at most");
      out.contentLength = length;
    } else if (equalsLower(name, "transfer-encoding")) {
      refuse(peer, "uses Transfer-Encoding, which banger does not expect here");
    } else if (equalsLower(name, "connection")) {
      out.connectionClose = equalsLower(value, "close");
    }
  }
  return out;
}

}  // namespace

std::optional<HttpAnswer> parseHttpAnswer(std::string_view received, bool closed,
                                          std::size_t maxBody, const std::string& peer) {
  const std::size_t headEnd = received.find("\r\n\r\n");
  if (headEnd == std::string_view::npos) {
    if (received.size() > kMaxHead) refuse(peer, "has a head over 64 KiB");
    if (!closed) return std::nullopt;
    if (received.empty())
      fail(ErrorCode::Unavailable, peer + " closed the connection without answering");
    refuse(peer, "ended inside its head");
  }
  const Head head = parseHead(received.substr(0, headEnd), maxBody, peer);
  const std::string_view rest = received.substr(headEnd + 4);
  HttpAnswer answer;
  answer.status = head.status;
  answer.keepAlive = head.connectionClose ? !*head.connectionClose : head.http11;
  const bool bodiless = head.status < 200 || head.status == 204 || head.status == 304;
  if (bodiless || head.contentLength) {
    const std::size_t length = bodiless ? 0 : *head.contentLength;
    if (rest.size() < length) {
      if (!closed) return std::nullopt;
      refuse(peer, "ended after " + std::to_string(rest.size()) + " of its " +
                       std::to_string(length) + " bytes");
    }
    answer.body = std::string(rest.substr(0, length));
    return answer;
  }
  // No length: the body runs until the peer hangs up.
  if (rest.size() > maxBody)
    refuse(peer, "is over the " + std::to_string(maxBody) + " bytes expected at most");
  if (!closed) return std::nullopt;
  answer.body = std::string(rest);
  answer.keepAlive = false;
  return answer;
}

std::string httpRequestText(std::string_view method, std::string_view path,
                            const std::optional<std::string>& jsonBody) {
  std::string out;
  out.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
  if (jsonBody)
    out.append("Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: ")
        .append(std::to_string(jsonBody->size()))
        .append("\r\n\r\n")
        .append(*jsonBody);
  else
    out.append("\r\n");
  return out;
}

StreamSocket StreamSocket::unixSocket(const std::string& path, Clock::time_point deadline,
                                      std::string peer) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path))
    fail(ErrorCode::InvalidArgument, "socket path too long: " + path);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  StreamSocket out(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), deadline,
                   std::move(peer));
  if (out.fd_ < 0 ||
      ::connect(out.fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
    fail(ErrorCode::Unavailable,
         "cannot connect to " + out.peer_ + " at " + path + ": " + std::strerror(errno));
  return out;
}

StreamSocket StreamSocket::tcp(const std::string& ipv4, uint16_t port, Clock::time_point deadline,
                               std::string peer) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, ipv4.c_str(), &address.sin_addr) != 1)
    fail(ErrorCode::InvalidArgument, "not an IPv4 address: " + ipv4);
  StreamSocket out(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), deadline,
                   std::move(peer));
  if (out.fd_ < 0) fail(ErrorCode::Failed, std::string("socket: ") + std::strerror(errno));
  if (::connect(out.fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno != EINPROGRESS)
      fail(ErrorCode::Unavailable, "cannot connect to " + out.peer_ + ": " + std::strerror(errno));
    out.wait(POLLOUT);
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(out.fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0)
      fail(ErrorCode::Unavailable, "cannot connect to " + out.peer_ + ": " + std::strerror(error));
  }
  return out;
}

StreamSocket::StreamSocket(StreamSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      deadline_(other.deadline_),
      peer_(std::move(other.peer_)) {}

StreamSocket& StreamSocket::operator=(StreamSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    deadline_ = other.deadline_;
    peer_ = std::move(other.peer_);
  }
  return *this;
}

StreamSocket::~StreamSocket() {
  if (fd_ >= 0) ::close(fd_);
}

void StreamSocket::wait(short events) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    pollfd p{fd_, events, 0};
    const int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
    if (ready > 0) return;
    if (ready < 0 && errno == EINTR) continue;
    fail(ErrorCode::Timeout, peer_ + " did not answer in time");
  }
}

void StreamSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    wait(POLLOUT);
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0)
      fail(ErrorCode::Unavailable,
           "sending to " + peer_ + " failed: " + std::strerror(n < 0 ? errno : EPIPE));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string StreamSocket::line(std::size_t maxBytes) {
  std::string out;
  char c = 0;
  while (out.size() < maxBytes) {
    wait(POLLIN);
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    out.push_back(c);
    if (c == '\n') return out;
  }
  fail(ErrorCode::Unavailable, peer_ + " hung up before a whole line");
}

HttpAnswer StreamSocket::answer(std::size_t maxBody) {
  std::string received;
  char buffer[16384];
  for (;;) {
    wait(POLLIN);
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    const bool closed = n <= 0;
    if (!closed) received.append(buffer, static_cast<std::size_t>(n));
    if (auto answer = parseHttpAnswer(received, closed, maxBody, peer_)) return std::move(*answer);
  }
}

}  // namespace banger::vm
