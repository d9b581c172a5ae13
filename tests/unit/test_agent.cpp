// banger-agent against a fake /proc: the listening sockets it reports (v4 and v6, TCP
// and UDP, with the process that holds each), its /healthz, and its HTTP server's
// refusals of bad, huge and slow requests over a real socket.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent_client.h"
#include "agent_handler.h"
#include "agent_server.h"
#include "banger/errors.h"
#include "harness.h"
#include "http_request.h"
#include "proc_sockets.h"

namespace banger::guest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kTcpHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n";
constexpr const char* kTcp6Header =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

// One /proc/net/tcp line: `local` and `remote` as the kernel prints them, state `st`.
std::string tcpLine(const std::string& local, const std::string& remote, const std::string& st,
                    unsigned inode) {
  return "   0: " + local + " " + remote + " " + st +
         " 00000000:00000000 00:00000000 00000000     0        0 " + std::to_string(inode) +
         " 1 0000000000000000 100 0 0 10 0\n";
}

// A /proc with sshd (pid 410) on 0.0.0.0:22 and [::]:22, a web server (pid 530) on
// 127.0.0.1:8080, systemd-resolved (pid 320) on UDP 127.0.0.53:53, one established
// connection, and a second holder (pid 600) of sshd's v4 socket.
class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path net = proc() / "net";
    fs::create_directories(net);
    test::writeFile(net / "tcp", std::string(kTcpHeader) +
                                     tcpLine("00000000:0016", "00000000:0000", "0A", 1001) +
                                     tcpLine("0100007F:1F90", "00000000:0000", "0A", 1002) +
                                     tcpLine("0500A8C0:0016", "0100A8C0:D431", "01", 1003) +
                                     "garbage that is not a socket line\n");
    test::writeFile(net / "tcp6", std::string(kTcp6Header) +
                                      tcpLine("00000000000000000000000000000000:0016",
                                              "00000000000000000000000000000000:0000", "0A", 1004) +
                                      tcpLine("00000000000000000000000001000000:1F91",
                                              "00000000000000000000000000000000:0000", "0A", 1006));
    test::writeFile(net / "udp", std::string(kTcpHeader) +
                                     tcpLine("3500007F:0035", "00000000:0000", "07", 1005) +
                                     tcpLine("0500A8C0:9C40", "0100A8C0:0035", "01", 1007));
    test::writeFile(net / "udp6", kTcp6Header);
    holder(410, "sshd", {1001, 1004});
    holder(530, "web", {1002, 1006});
    holder(320, "systemd-resolve", {1005});
    holder(600, "sshd-child", {1001});
    test::writeFile(proc() / "uptime", "123.45 200.00\n");
    fs::create_directories(proc() / "sys/kernel/random");
    test::writeFile(proc() / "sys/kernel/random/boot_id", "5e2b0c33-6f1e-4f7e-9d0a-0c1b2a3d4e5f\n");
  }

  void holder(int pid, const std::string& comm, const std::vector<unsigned>& inodes) {
    const fs::path dir = proc() / std::to_string(pid);
    fs::create_directories(dir / "fd");
    test::writeFile(dir / "comm", comm + "\n");
    int fd = 3;
    fs::create_symlink("/dev/null", dir / "fd" / "0");
    for (const unsigned inode : inodes)
      fs::create_symlink("socket:[" + std::to_string(inode) + "]",
                         dir / "fd" / std::to_string(fd++));
  }

  fs::path proc() const { return temp_.path() / "proc"; }

  test::TempDir temp_;
};

TEST_F(FakeProc, ListeningSocketsHaveTheirAddressPortAndLowestHoldingPid) {
  const auto sockets = listeningSockets(proc());
  ASSERT_EQ(sockets.size(), 5u);
  const auto is = [](const ListeningSocket& s, const char* proto, const char* address, int port,
                     const char* process, int pid) {
    return s.proto == proto && s.address == address && s.port == port && s.process == process &&
           s.pid == pid;
  };
  EXPECT_TRUE(is(sockets[0], "tcp", "0.0.0.0", 22, "sshd", 410)) << sockets[0].address;
  EXPECT_TRUE(is(sockets[1], "tcp", "::", 22, "sshd", 410)) << sockets[1].address;
  EXPECT_TRUE(is(sockets[2], "tcp", "127.0.0.1", 8080, "web", 530)) << sockets[2].address;
  EXPECT_TRUE(is(sockets[3], "tcp", "::1", 8081, "web", 530)) << sockets[3].address;
  EXPECT_TRUE(is(sockets[4], "udp", "127.0.0.53", 53, "systemd-resolve", 320))
      << sockets[4].address;
}

TEST_F(FakeProc, ASocketNoProcessHoldsIsListedWithoutOne) {
  fs::remove_all(proc() / "530");
  const auto sockets = listeningSockets(proc());
  ASSERT_EQ(sockets.size(), 5u);
  EXPECT_EQ(sockets[2].port, 8080);
  EXPECT_EQ(sockets[2].process, "");
  EXPECT_EQ(sockets[2].pid, 0);
}

TEST(ProcNet, MalformedLinesAreSkippedNeverFatal) {
  const std::string table = std::string(kTcpHeader) + "   0: 0000:0016 00000000:0000 0A\n" +
                            tcpLine("ZZZZZZZZ:0016", "00000000:0000", "0A", 1) +
                            tcpLine("00000000:FFFFF", "00000000:0000", "0A", 2) +
                            tcpLine("00000000:0050", "00000000:0000", "0A", 3);
  const auto entries = parseProcNet(table, true, false);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].port, 80);
  EXPECT_EQ(entries[0].inode, 3u);
  EXPECT_TRUE(parseProcNet("", true, false).empty());
}

TEST_F(FakeProc, HealthzReportsTheBootIdUptimeAndSystemdState) {
  const AgentHandler handler(proc(), [] { return std::string("degraded"); });
  const HttpAnswer answer = handler.answer({.method = "GET", .path = "/healthz"});
  EXPECT_EQ(answer.status, 200);
  const Json body = Json::parse(answer.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["boot_id"], "5e2b0c33-6f1e-4f7e-9d0a-0c1b2a3d4e5f");
  EXPECT_DOUBLE_EQ(body["uptime_sec"].get<double>(), 123.45);
  EXPECT_EQ(body["systemd"], "degraded");
}

// The host's wait for a boot asks without systemd's state, which costs a systemctl each
// time: the agent then leaves it out and starts nothing.
TEST_F(FakeProc, HealthzWithSystemdNoLeavesTheStateOutWithoutAskingForIt) {
  int asked = 0;
  const AgentHandler handler(proc(), [&] {
    ++asked;
    return std::string("running");
  });
  for (const char* query : {"systemd=no", "x=1&systemd=no", "systemd=no&x=1"}) {
    const Json body =
        Json::parse(handler.answer({.method = "GET", .path = "/healthz", .query = query}).body);
    EXPECT_EQ(body["boot_id"], "5e2b0c33-6f1e-4f7e-9d0a-0c1b2a3d4e5f") << query;
    EXPECT_FALSE(body.contains("systemd")) << query;
  }
  EXPECT_EQ(asked, 0);
  for (const char* query : {"", "systemd=nope", "xsystemd=no", "systemd=yes"}) {
    const Json body =
        Json::parse(handler.answer({.method = "GET", .path = "/healthz", .query = query}).body);
    EXPECT_EQ(body["systemd"], "running") << query;
  }
  EXPECT_EQ(asked, 4);
}

// The host reads both answers: with the state (any agent, asked or not) and without it.
TEST(AgentHealthOnTheHost, TheStateIsReadWhenPresentAndEmptyWhenLeftOut) {
  const std::string head = R"({"status":"ok","boot_id":"b1","uptime_sec":1.5)";
  EXPECT_EQ(vm::parseAgentHealth(head + R"(,"systemd":"starting"})").systemd, "starting");
  const vm::AgentHealth without = vm::parseAgentHealth(head + "}");
  EXPECT_EQ(without.bootId, "b1");
  EXPECT_EQ(without.systemd, "");
  EXPECT_THROW(vm::parseAgentHealth(head + R"(,"systemd":7})"), Error);
  EXPECT_THROW(vm::parseAgentHealth(head + R"(,"systemd":")" + std::string(40, 'x') + R"("})"),
               Error);
}

TEST_F(FakeProc, PortsIsAJsonListOfTheListeningSockets) {
  const AgentHandler handler(proc(), [] { return std::string("running"); });
  const Json body = Json::parse(handler.answer({.method = "GET", .path = "/ports"}).body);
  ASSERT_EQ(body["ports"].size(), 5u);
  EXPECT_EQ(body["ports"][0], (Json{{"proto", "tcp"},
                                    {"address", "0.0.0.0"},
                                    {"port", 22},
                                    {"process", "sshd"},
                                    {"pid", 410}}));
}

TEST_F(FakeProc, UnknownPathsAre404AndOtherMethods405WithAllow) {
  const AgentHandler handler(proc(), [] { return std::string("running"); });
  EXPECT_EQ(handler.answer({.method = "GET", .path = "/"}).status, 404);
  EXPECT_EQ(handler.answer({.method = "GET", .path = "/healthz/x"}).status, 404);
  const HttpAnswer post = handler.answer({.method = "POST", .path = "/ports"});
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(renderAnswer(post, false, false).find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
}

TEST(AgentRequest, ParsesARequestAndItsQueryAndConnection) {
  const RequestParse parse =
      parseRequest("GET /ports?x=1 HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\nGET");
  ASSERT_EQ(parse.state, RequestParse::State::Complete);
  EXPECT_EQ(parse.request.method, "GET");
  EXPECT_EQ(parse.request.path, "/ports");
  EXPECT_EQ(parse.request.query, "x=1");
  EXPECT_FALSE(parse.request.keepAlive);
  EXPECT_EQ(parse.consumed, std::string("GET /ports?x=1 HTTP/1.1\r\nHost: agent\r\n"
                                        "Connection: close\r\n\r\n")
                                .size());
  EXPECT_EQ(parseRequest("GET /healthz HTTP/1.1\r\nHost: a").state,
            RequestParse::State::Incomplete);
  EXPECT_FALSE(parseRequest("GET / HTTP/1.0\r\n\r\n").request.keepAlive);
  EXPECT_EQ(parseRequest("GET / HTTP/1.0\r\n\r\n").request.query, "");
  const RequestParse exec = parseRequest(
      "POST /exec HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n5\r\n");
  ASSERT_EQ(exec.state, RequestParse::State::Complete);
  EXPECT_TRUE(exec.request.chunked);
  EXPECT_TRUE(exec.request.expectContinue);
  EXPECT_FALSE(parseRequest("GET / HTTP/1.1\r\n\r\n").request.chunked);
}

TEST(AgentRequest, BadRequestsAreRefusedWithTheirStatus) {
  const auto status = [](const std::string& text) {
    const RequestParse parse = parseRequest(text);
    return parse.state == RequestParse::State::Refused ? parse.status : 0;
  };
  EXPECT_EQ(status("GET\r\n\r\n"), 400);
  EXPECT_EQ(status("GET  /x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status("GET x HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status("G(T / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status("GET /\x01 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nno colon here\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"), 413);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nExpect: something\r\n\r\n"), 417);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a')), 431);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"), 431);
}

// The server on a Unix socket in a thread, as banger-agent serves vsock.
class AgentOverSocket : public FakeProc {
 protected:
  void SetUp() override {
    FakeProc::SetUp();
    socketPath_ = temp_.path() / "agent.sock";
    const int listener = test::listenOnUnixSocket(socketPath_);
    handler_ = std::make_unique<AgentHandler>(proc(), [] { return std::string("running"); });
    server_ = std::make_unique<AgentServer>(listener, *handler_, 400ms);
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  int connect() const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socketPath_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  static void send(int fd, const std::string& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Everything the server sends until it closes the connection (or 5 s pass).
  static std::string readToClose(int fd) {
    std::string out;
    char buffer[4096];
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, 100) <= 0) continue;
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) return out;
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return out + "(still open)";
  }

  fs::path socketPath_;
  std::unique_ptr<AgentHandler> handler_;
  std::unique_ptr<AgentServer> server_;
  std::thread thread_;
};

TEST_F(AgentOverSocket, AnswersKeepAliveRequestsInOrderThenCloses) {
  const int fd = connect();
  send(fd, "GET /healthz HTTP/1.1\r\n\r\nGET /ports HTTP/1.1\r\nConnection: close\r\n\r\n");
  const std::string reply = readToClose(fd);
  ::close(fd);
  const std::size_t second = reply.find("HTTP/1.1 200 OK", 1);
  ASSERT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  ASSERT_NE(second, std::string::npos) << reply;
  EXPECT_NE(reply.find("\"boot_id\":\"5e2b0c33"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\"process\":\"sshd\"", second), std::string::npos) << reply;
  EXPECT_NE(reply.find("Connection: close", second), std::string::npos) << reply;
}

TEST_F(AgentOverSocket, GarbageGets400AndTheConnectionCloses) {
  const int fd = connect();
  send(fd, "\x16\x03\x01 hello tls\r\n\r\n");
  const std::string reply = readToClose(fd);
  ::close(fd);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("{\"error\":"), std::string::npos) << reply;
}

TEST_F(AgentOverSocket, AHugeRequestIsCutOffWith431) {
  const int fd = connect();
  const std::string huge = "GET /healthz HTTP/1.1\r\nX-Pad: " + std::string(64 * 1024, 'x');
  ::send(fd, huge.data(), huge.size(), MSG_NOSIGNAL);  // the server may close before all of it
  const std::string reply = readToClose(fd);
  ::close(fd);
  EXPECT_EQ(reply.rfind("HTTP/1.1 431 ", 0), 0u) << reply.substr(0, 200);
}

TEST_F(AgentOverSocket, ASlowClientIsCutOffAndStallsNoOneElse) {
  const int slow = connect();
  send(slow, "GET /healthz HTTP/1.1\r\n");  // and never the rest
  const int quick = connect();
  send(quick, "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(readToClose(quick).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  ::close(quick);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(readToClose(slow), "");  // closed at its deadline, with nothing said
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  ::close(slow);
}

TEST_F(AgentOverSocket, AFloodOfConnectionsNeverTakesTheServerDown) {
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(connect());  // more than kMaxConnections
  for (const int fd : idle) ::close(fd);
  const int fd = connect();
  send(fd, "GET /ports HTTP/1.0\r\n\r\n");
  EXPECT_EQ(readToClose(fd).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  ::close(fd);
}

}  // namespace
}  // namespace banger::guest
