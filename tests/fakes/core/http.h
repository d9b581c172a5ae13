// The HTTP/1.1 of Firecracker's API socket (micro-http): one request at a time on a
// keep-alive connection, bodies by Content-Length, and answers laid out byte for byte as
// Firecracker lays them out (status line without a reason phrase).
#pragma once

#include <sys/types.h>

#include <cstddef>
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

// Reads requests from one accepted connection.
class HttpConnection {
 public:
  HttpConnection(int fd, std::size_t maxPayload);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  int fd() const { return fd_; }
  // Reads what is available without blocking; false when the peer has gone.
  bool fill();
  // A whole request when one is buffered. A malformed one gives `error` the answer
  // micro-http gives ({"error": ...}) and the connection is to be closed after it.
  std::optional<HttpRequest> next(std::optional<HttpResponse>& error);
  void send(const HttpResponse& response);

 private:
  int fd_;
  std::size_t maxPayload_;
  std::string buffer_;
  uid_t peerUid_ = static_cast<uid_t>(-1);
};

}  // namespace fcfake
