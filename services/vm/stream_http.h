// HTTP/1.1 over one connected stream socket, for banger-vm's only HTTP peers: Firecracker's
// API socket, the guest agent behind Firecracker's vsock socket, and a guest's TCP ports.
// All are local, plain HTTP, and answer with a Content-Length (or close), so this small
// client replaces libcurl in this service, and with it the ~25 libraries it loads into a
// daemon that stays resident (docs/architecture.md, "Memory").
//
// What is read comes from Firecracker or from inside a guest: parseHttpAnswer is bounded
// and fuzzed (tests/fuzz/fuzz_agent_answer.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace banger::vm {

struct HttpAnswer {
  int status = 0;
  std::string body;
  bool keepAlive = false;  // the peer keeps the connection open for the next request
};

// One complete answer from the bytes received so far, or nullopt when more are needed.
// With `closed` (the peer has hung up) an answer without a Content-Length ends there, and
// a short one is InvalidArgument. Malformed heads, chunked bodies and bodies over
// `maxBody` are InvalidArgument naming `peer`.
std::optional<HttpAnswer> parseHttpAnswer(std::string_view received, bool closed,
                                          std::size_t maxBody, const std::string& peer);

// "PUT /drives/rootfs HTTP/1.1" with Host, and for a body, JSON's content headers.
std::string httpRequestText(std::string_view method, std::string_view path,
                            const std::optional<std::string>& jsonBody);

class StreamSocket {
 public:
  using Clock = std::chrono::steady_clock;
  // Unavailable when nothing listens at `path`, naming `peer` (what the socket belongs to).
  static StreamSocket unixSocket(const std::string& path, Clock::time_point deadline,
                                 std::string peer);
  static StreamSocket tcp(const std::string& ipv4, uint16_t port, Clock::time_point deadline,
                          std::string peer);
  StreamSocket(StreamSocket&& other) noexcept;
  StreamSocket& operator=(StreamSocket&& other) noexcept;
  StreamSocket(const StreamSocket&) = delete;
  StreamSocket& operator=(const StreamSocket&) = delete;
  ~StreamSocket();

  // Every wait below ends at the deadline with Timeout naming the peer.
  void setDeadline(Clock::time_point deadline) { deadline_ = deadline; }
  void send(std::string_view bytes);
  // Up to and including '\n', at most `maxBytes`; Unavailable if the peer hangs up first.
  std::string line(std::size_t maxBytes);
  HttpAnswer answer(std::size_t maxBody);
  // Until the socket is ready for `events` (POLLIN, POLLOUT): for a protocol run over fd()
  // by someone else (OpenSSL in web_probe).
  void wait(short events);
  int fd() const { return fd_; }

 private:
  StreamSocket(int fd, Clock::time_point deadline, std::string peer)
      : fd_(fd), deadline_(deadline), peer_(std::move(peer)) {}
  int fd_ = -1;
  Clock::time_point deadline_;
  std::string peer_;
};

}  // namespace banger::vm
