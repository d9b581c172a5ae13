// The HTTP client against a real local server (tests/support/http_peer.py), over TCP and
// over a Unix socket, as the registry and the Firecracker API will be reached.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <thread>

#include "banger/errors.h"
#include "banger/http.h"
#include "harness.h"

using namespace banger;
using namespace banger::test;

namespace {

class HttpPeer {
 public:
  explicit HttpPeer(bool unix) {
    std::vector<std::string> argv{"/usr/bin/python3",
                                  std::string(BANGER_SOURCE_DIR) + "/tests/support/http_peer.py"};
    if (unix) {
      socket_ = (dir_.path() / "api.sock").string();
      argv.insert(argv.end(), {"unix", socket_});
      base_ = "http://localhost";
    } else {
      const uint16_t port = freeLoopbackPort();
      argv.insert(argv.end(), {"tcp", std::to_string(port)});
      base_ = "http://127.0.0.1:" + std::to_string(port);
    }
    log_ = dir_.path() / "peer.log";
    pid_ = spawnBackground(argv, {}, log_);
    const bool ready = waitFor([&] { return readFile(log_).find("ready") != std::string::npos; },
                               std::chrono::seconds(10));
    if (!ready) ADD_FAILURE() << "http_peer.py did not start: " << readFile(log_);
  }
  ~HttpPeer() { stopProcess(pid_); }
  http::Request request(const std::string& path) const {
    http::Request r;
    r.url = base_ + path;
    r.unixSocket = socket_;
    return r;
  }
  const std::string& base() const { return base_; }

 private:
  TempDir dir_;
  std::filesystem::path log_;
  std::string socket_, base_;
  pid_t pid_ = -1;
};

ErrorCode errorOf(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return ErrorCode::Failed;
}

class Http : public ::testing::TestWithParam<bool> {
 protected:
  HttpPeer peer{GetParam()};
  http::Client client;
};

}  // namespace

TEST_P(Http, GetsPutsWithHeadersAndBody) {
  auto r = client.fetch(peer.request("/hello"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  auto put = peer.request("/echo");
  put.method = "PUT";
  put.headers = {"X-Test: yes", "Content-Type: application/json"};
  put.body = R"({"vcpu_count":2})";
  r = client.fetch(put);
  EXPECT_EQ(r.body, R"(PUT yes {"vcpu_count":2})");
}

TEST_P(Http, StreamsALargeBodyInChunks) {
  size_t total = 0, chunks = 0;
  const auto r = client.stream(peer.request("/big?n=5000000"), [&](std::string_view chunk) {
    total += chunk.size();
    ++chunks;
  });
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(total, 5000000U);
  EXPECT_GT(chunks, 1U);
  EXPECT_TRUE(r.body.empty());
}

TEST_P(Http, ABufferedBodyOverItsLimitIsAnError) {
  auto request = peer.request("/big?n=3000000");
  request.maxBodyBytes = 1 << 20;
  std::string message;
  EXPECT_EQ(errorOf([&] { client.fetch(request); }, &message), ErrorCode::Failed);
  EXPECT_NE(message.find("larger than 1048576 bytes"), std::string::npos) << message;
}

TEST_P(Http, StatusErrorsNameTheRequestAndTheStatus) {
  const auto request = peer.request("/status/404");
  const auto r = client.fetch(request);
  EXPECT_EQ(r.status, 404);
  std::string message;
  EXPECT_EQ(errorOf([&] { http::requireSuccess(request, r); }, &message), ErrorCode::NotFound);
  EXPECT_NE(message.find("GET " + peer.base() + "/status/404 answered HTTP 404"), std::string::npos)
      << message;
  EXPECT_NE(message.find("MANIFEST_UNKNOWN"), std::string::npos) << message;
}

TEST_P(Http, TimeoutsAndCancelEndAStalledTransfer) {
  auto request = peer.request("/stall");
  request.totalTimeout = std::chrono::milliseconds(500);
  std::string message;
  EXPECT_EQ(errorOf([&] { client.fetch(request); }, &message), ErrorCode::Timeout);
  EXPECT_NE(message.find("/stall"), std::string::npos) << message;

  request.totalTimeout = std::chrono::milliseconds(0);
  std::atomic<bool> cancel{false};
  std::thread canceler([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  const auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(errorOf([&] {
              client.stream(
                  request, [](std::string_view) {}, &cancel);
            }),
            ErrorCode::Canceled);
  canceler.join();
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
}

INSTANTIATE_TEST_SUITE_P(TcpAndUnixSocket, Http, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Unix" : "Tcp"; });

TEST(HttpRedirects, AreFollowedOnlyWhenAskedAndUpToTheLimit) {
  HttpPeer peer(false);
  http::Client client;
  auto request = peer.request("/redirect?to=" + peer.base() + "/hello");
  auto r = client.fetch(request);
  EXPECT_EQ(r.status, 302) << "followed without being asked";
  EXPECT_EQ(r.header("location"), peer.base() + "/hello");
  request.maxRedirects = 3;
  r = client.fetch(request);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.effectiveUrl, peer.base() + "/hello");
  // A loop runs out of redirects and says so.
  auto loop = peer.request("/redirect?to=/redirect%3Fto%3D/redirect");
  loop.maxRedirects = 2;
  EXPECT_EQ(errorOf([&] { client.fetch(loop); }), ErrorCode::Failed);
}

TEST(HttpErrors, NothingListeningIsUnavailableNamingTheUrl) {
  http::Client client;
  http::Request request;
  request.url = "http://127.0.0.1:" + std::to_string(freeLoopbackPort()) + "/v2/";
  std::string message;
  EXPECT_EQ(errorOf([&] { client.fetch(request); }, &message), ErrorCode::Unavailable);
  EXPECT_NE(message.find("GET " + request.url), std::string::npos) << message;
  request.url = "http://localhost/machine-config";
  request.unixSocket = "/nonexistent/firecracker.sock";
  EXPECT_EQ(errorOf([&] { client.fetch(request); }, &message), ErrorCode::Unavailable);
  EXPECT_NE(message.find("/nonexistent/firecracker.sock"), std::string::npos) << message;
}
