// The HTTP/1.1 client for peers on the internet: OCI registries over TLS, Debian's
// mirrors (and the tests' Unix-socket stand-ins). libcurl does the protocol; this fixes
// the policy: timeouts, a cancel flag, bounded bodies, redirects only when asked for and
// never from https to http, and errors that name the request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger::http {

struct Request {
  std::string method = "GET";
  // With unixSocket set, the host part only fills the Host header: http://localhost/path.
  std::string url;
  std::string unixSocket;
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::string> body;
  std::chrono::milliseconds connectTimeout{10'000};
  std::chrono::milliseconds totalTimeout{0};  // 0 = none (streams of unknown length)
  // Aborts when fewer than lowSpeedBytes arrive per lowSpeedWindow (0 = never): a peer
  // that stalls mid-body is given up on without a total timeout.
  std::chrono::seconds lowSpeedWindow{0};
  long lowSpeedBytes = 1;
  int maxRedirects = 0;  // 0: a redirect is answered, not followed
  // A buffered body larger than this is an error (stream() has no limit of its own).
  uint64_t maxBodyBytes = 16 << 20;
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case; the last of repeats
  std::string body;                            // empty for stream()
  std::string effectiveUrl;                    // after redirects

  std::optional<std::string> header(const std::string& lowerName) const;
  bool ok() const { return status >= 200 && status < 300; }
};

// Throws banger::Error unless the response is 2xx: NotFound for 404, Failed for the
// rest; the message names method, URL and status, and a short error body.
void requireSuccess(const Request& request, const Response& response);

class Client {
 public:
  using BodySink = std::function<void(std::string_view chunk)>;

  Client();
  // The whole body in Response::body, at most request.maxBodyBytes. Transport failures
  // throw banger::Error naming method and URL: Timeout, Canceled (when `*cancel` was
  // set), Unavailable (cannot connect), Failed otherwise.
  Response fetch(const Request& request, const std::atomic<bool>* cancel = nullptr) const;
  // The body handed to `sink` as it arrives (of a 2xx answer only; an error's body is
  // kept in Response::body, bounded, for its message).
  Response stream(const Request& request, const BodySink& sink,
                  const std::atomic<bool>* cancel = nullptr) const;
};

}  // namespace banger::http
