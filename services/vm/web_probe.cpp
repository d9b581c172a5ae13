#include "web_probe.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <memory>
#include <string_view>

#include "banger/errors.h"
#include "stream_http.h"

namespace banger::vm {
namespace {

using Clock = StreamSocket::Clock;

bool startsAnHttpAnswer(std::string_view bytes) { return bytes.rfind("HTTP/", 0) == 0; }

// GET rather than HEAD: some servers (OpenSSL's s_server -www, small dev servers) answer
// only GET; only the status line's first bytes are read, the rest is never fetched.
std::string probeRequest(const std::string& ipv4, uint16_t port) {
  return "GET / HTTP/1.0\r\nHost: " + ipv4 + ":" + std::to_string(port) + "\r\n\r\n";
}

// Runs one non-blocking OpenSSL step until it is done; false when it fails. Waiting past
// the socket's deadline throws Timeout.
template <class Step>
bool drive(SSL* ssl, StreamSocket& socket, Step step) {
  for (;;) {
    const int result = step();
    if (result > 0) return true;
    const int error = SSL_get_error(ssl, result);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) return false;
    socket.wait(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
  }
}

// OpenSSL's per-thread error queue must not carry a guest's errors on to the next user of
// this worker thread, however the probe ends.
struct ClearOpenSslErrors {
  ~ClearOpenSslErrors() { ERR_clear_error(); }
};

bool speaksHttps(const std::string& ipv4, uint16_t port, Clock::time_point deadline) {
  StreamSocket socket = StreamSocket::tcp(ipv4, port, deadline, "port " + std::to_string(port));
  const ClearOpenSslErrors clearOnReturn;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()),
                                                            SSL_CTX_free);
  if (!context) return false;
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), socket.fd()) != 1) return false;
  const std::string request = probeRequest(ipv4, port);
  if (!drive(ssl.get(), socket, [&] { return SSL_connect(ssl.get()); }) ||
      !drive(ssl.get(), socket, [&] {
        return SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
      }))
    return false;
  std::string start;
  while (start.size() < 5) {
    char bytes[5];
    int got = 0;
    if (!drive(ssl.get(), socket, [&] {
          return got = SSL_read(ssl.get(), bytes, static_cast<int>(sizeof bytes - start.size()));
        }))
      return false;
    start.append(bytes, static_cast<std::size_t>(got));
  }
  return startsAnHttpAnswer(start);
}

bool speaksHttp(const std::string& ipv4, uint16_t port, Clock::time_point deadline) {
  StreamSocket socket = StreamSocket::tcp(ipv4, port, deadline, "port " + std::to_string(port));
  socket.send(probeRequest(ipv4, port));
  return startsAnHttpAnswer(socket.line(256));
}

}  // namespace

std::string probeWebScheme(const std::string& ipv4, uint16_t port,
                           std::chrono::milliseconds timeout) {
  for (const auto& [scheme, speaks] : {std::pair{"https", &speaksHttps}, {"http", &speaksHttp}}) {
    try {
      if (speaks(ipv4, port, Clock::now() + timeout)) return scheme;
    } catch (const Error&) {
      // Refused, closed or silent: not this scheme.
    }
  }
  return "";
}

}  // namespace banger::vm
