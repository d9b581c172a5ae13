// The Vm service's own HTTP (stream_http.h): how it reads Firecracker's and the agent's
// answers, and how Ports tells an HTTPS port from an HTTP one (web_probe.h) against a real
// OpenSSL server and a real plain one.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "banger/errors.h"
#include "harness.h"
#include "stream_http.h"
#include "web_probe.h"

namespace banger::vm {
namespace {

using namespace std::chrono_literals;
using banger::test::TempDir;

constexpr std::size_t kMax = 1 << 20;

std::optional<HttpAnswer> parse(std::string_view bytes, bool closed, std::size_t max = kMax) {
  return parseHttpAnswer(bytes, closed, max, "Firecracker's API socket");
}

ErrorCode codeOf(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const Error& error) {
    if (message) *message = error.what();
    return error.code();
  }
  ADD_FAILURE() << "no error";
  return ErrorCode::Failed;
}

TEST(StreamHttp, FirecrackersNoContentKeepsTheConnection) {
  const auto answer =
      parse("HTTP/1.1 204 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n\r\n", false);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 204);
  EXPECT_TRUE(answer->keepAlive);
  EXPECT_EQ(answer->body, "");
}

TEST(StreamHttp, ABodyIsWaitedForUntilItsContentLengthHasArrived) {
  const std::string whole =
      "HTTP/1.1 400 \r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n"
      "{\"fault_message\":\"no vm\"}x";
  EXPECT_FALSE(parse(whole.substr(0, 20), false));                // inside the head
  EXPECT_FALSE(parse(whole.substr(0, whole.size() - 5), false));  // inside the body
  const auto answer = parse(whole, false);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400);
  EXPECT_EQ(answer->body, "{\"fault_message\":\"no vm\"}x");
}

TEST(StreamHttp, AnHttp10AnswerWithoutLengthEndsWhenThePeerHangsUp) {
  const std::string bytes = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}";
  EXPECT_FALSE(parse(bytes, false));
  const auto answer = parse(bytes, true);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->body, "{\"a\":1}");
  EXPECT_FALSE(answer->keepAlive);
  EXPECT_FALSE(
      parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false)->keepAlive);
}

TEST(StreamHttp, BadAnswersAreRefusedNamingThePeerAndWhatIsWrong) {
  std::string message;
  EXPECT_EQ(codeOf([] { parse("SSH-2.0-OpenSSH_9.2\r\n\r\n", false); }, &message),
            ErrorCode::InvalidArgument);
  EXPECT_NE(message.find("Firecracker's API socket's answer is not HTTP/1.x"), std::string::npos)
      << message;
  EXPECT_EQ(
      codeOf([] { parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", false); }, &message),
      ErrorCode::InvalidArgument);
  EXPECT_NE(message.find("over the 1048576"), std::string::npos) << message;
  EXPECT_EQ(codeOf([] { parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false); },
                   &message),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(codeOf([] { parse("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false); }),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(codeOf([] {
              parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", false);
            }),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(
      codeOf([] { parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true); }, &message),
      ErrorCode::InvalidArgument);
  EXPECT_NE(message.find("ended after 5 of its 10 bytes"), std::string::npos) << message;
  EXPECT_EQ(codeOf([] { parse("", true); }, &message), ErrorCode::Unavailable);
  EXPECT_NE(message.find("closed the connection without answering"), std::string::npos);
  EXPECT_EQ(codeOf([] { parse(std::string(70'000, 'H'), false); }), ErrorCode::InvalidArgument);
  EXPECT_EQ(codeOf([] { parse("HTTP/1.0 200 OK\r\n\r\n" + std::string(5000, 'x'), false, 4096); }),
            ErrorCode::InvalidArgument);
}

// A loopback listener that answers each connection with `reply` (or nothing) and closes.
class Listener {
 public:
  explicit Listener(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int client = ::accept(fd_, nullptr, nullptr);
        if (client < 0 || stop_) break;
        char buffer[4096];
        (void)::recv(client, buffer, sizeof buffer, 0);
        (void)::send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        ::close(client);
      }
    });
  }
  ~Listener() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  std::string reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(WebProbe, APlainWebServerIsHttp) {
  Listener web("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(probeWebScheme("127.0.0.1", web.port(), 1500ms), "http");
}

TEST(WebProbe, SomethingElseOrNothingIsNoWebPortAtAll) {
  Listener ssh("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
  EXPECT_EQ(probeWebScheme("127.0.0.1", ssh.port(), 1500ms), "");
  Listener silent("");
  EXPECT_EQ(probeWebScheme("127.0.0.1", silent.port(), 500ms), "");
  const uint16_t closed = banger::test::freeLoopbackPort();
  EXPECT_EQ(probeWebScheme("127.0.0.1", closed, 500ms), "");
}

TEST(WebProbe, ATlsWebServerWithItsOwnCertificateIsHttps) {
  TempDir dir;
  const std::string key = (dir.path() / "key.pem").string(),
                    cert = (dir.path() / "cert.pem").string();
  const auto made = banger::test::shell(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=guest "
      "-days 1 -keyout " +
      key + " -out " + cert);
  ASSERT_EQ(made.status, 0) << made.out;
  // s_server -www answers every request with an HTTP status page; port 0 picks a free one.
  const auto log = dir.path() / "s_server.log";
  const pid_t server = banger::test::spawnBackground(
      {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key, "-www"}, {},
      log);
  uint16_t port = 0;
  ASSERT_TRUE(banger::test::waitFor(
      [&] {
        const std::string text = banger::test::readFile(log);
        const size_t at = text.find("ACCEPT 127.0.0.1:");
        if (at == std::string::npos) return false;
        port = static_cast<uint16_t>(std::stoi(text.substr(at + 17)));
        return true;
      },
      5s))
      << banger::test::readFile(log);
  EXPECT_EQ(probeWebScheme("127.0.0.1", port, 1500ms), "https");
  banger::test::stopProcess(server);
}

}  // namespace
}  // namespace banger::vm
