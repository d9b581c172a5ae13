// The HTTP/1.1 of Firecracker's API socket (micro-http): one request at a time on a
// keep-alive connection, bodies by Content-Length, and answers laid out byte for byte as
// Firecracker lays them out (status line without a reason phrase).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace fcfake {

struct HttpRequest {
  std::string method;
  std::string path;  // without the query
  std::optional<std::string> body;
  uid_t peerUid = static_cast<uid_t>(-1);
};

struct HttpResponse {
  int status = 204;
  std::string body;  // JSON, empty for 204
  bool deprecation = false;
};

// {"fault_message": message} with the given status.
HttpResponse faultResponse(int status, const std::string& message);
std::string serialize(const HttpResponse& response);

// One accepted, non-blocking connection: requests in, answers queued out.
class HttpConnection {
 public:
  HttpConnection(int fd, std::size_t maxPayload);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  int fd() const { return fd_; }
  // One read of what is there, without blocking; false when the peer has gone.
  bool fill();
  // A whole request when one is buffered. A malformed one gives `error` the answer
  // micro-http gives ({"error": ...}) and the connection is to be closed after it.
  std::optional<HttpRequest> next(std::optional<HttpResponse>& error);
  // Queues an answer and writes what the socket takes now; flush() writes the rest.
  void send(const HttpResponse& response);
  // Writes queued answers without blocking; false when the peer has gone.
  bool flush();
  bool pendingWrite() const { return sent_ < outgoing_.size(); }

 private:
  int fd_;
  std::size_t maxPayload_;
  std::string buffer_;
  std::string outgoing_;
  std::size_t sent_ = 0;
  uid_t peerUid_ = static_cast<uid_t>(-1);
};

// micro-http's loop on the API socket, until `stopFd` is readable: at most 10
// connections (the next gets micro-http's 503 and is closed), and a connection is read
// only while none of its answers waits to be written, so a client that never reads
// stalls itself and no one else.
void serveHttp(int listener, int stopFd, std::size_t maxPayload,
               const std::function<HttpResponse(const HttpRequest&)>& handle);

}  // namespace fcfake
