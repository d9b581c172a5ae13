// banger-agent's POST /exec and its host side: the chunked body read as it arrives, scripts
// run with their stdin streamed and their status, signal and stderr answered, a host that
// hangs up or cancels ending the script, the limits, the fallback to ssh for an agent
// without /exec, and a whole workspace copied through the agent.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/vm_sockets.h>
#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "agent_handler.h"
#include "agent_server.h"
#include "banger/files.h"
#include "chunked_body.h"
#include "exec_service.h"
#include "guest_shell.h"
#include "harness.h"
#include "workspace.h"

namespace banger {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace std::string_literals;
using guest::ChunkedDecoder;

ChunkedDecoder::State decodeAll(std::string_view body, std::string& out,
                                std::size_t* consumed = nullptr) {
  ChunkedDecoder decoder;
  const ChunkedDecoder::State state = decoder.feed(body, out);
  if (consumed) *consumed = decoder.consumed();
  return state;
}

TEST(ChunkedBody, DecodesWholeOrByteByByteAndLeavesWhatFollows) {
  const std::string body = "5\r\nhello\r\n1;name=value\r\n,\r\nA\r\n0123456789\r\n0\r\n\r\nNEXT";
  std::string whole;
  std::size_t consumed = 0;
  EXPECT_EQ(decodeAll(body, whole, &consumed), ChunkedDecoder::State::Done);
  EXPECT_EQ(whole, "hello,0123456789");
  EXPECT_EQ(body.substr(consumed), "NEXT");

  ChunkedDecoder decoder;
  std::string pieces;
  ChunkedDecoder::State state = ChunkedDecoder::State::More;
  for (std::size_t i = 0; i < body.size() && state == ChunkedDecoder::State::More; ++i)
    state = decoder.feed(body.substr(i, 1), pieces);
  EXPECT_EQ(state, ChunkedDecoder::State::Done);
  EXPECT_EQ(pieces, whole);

  std::string trailed;
  EXPECT_EQ(decodeAll("3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", trailed), ChunkedDecoder::State::Done);
  EXPECT_EQ(trailed, "abc");
  std::string partial;
  EXPECT_EQ(decodeAll("3\r\nab", partial), ChunkedDecoder::State::More);
  EXPECT_EQ(partial, "ab");
}

TEST(ChunkedBody, MalformedBodiesAreRefusedSayingWhy) {
  const auto reason = [](const std::string& body) {
    ChunkedDecoder decoder;
    std::string out;
    return decoder.feed(body, out) == ChunkedDecoder::State::Refused ? decoder.reason()
                                                                     : std::string("accepted");
  };
  EXPECT_EQ(reason("x\r\n"), "a chunk size is not hexadecimal");
  EXPECT_EQ(reason("\r\n"), "a chunk size is not hexadecimal");
  EXPECT_EQ(reason("3\r\nabcd\r\n"), "a chunk's data is longer than its size");
  EXPECT_EQ(reason("3\nabc"), "a chunk size is not hexadecimal");
  EXPECT_EQ(reason("3\rXabc"), "a CR in the chunked body is not followed by LF");
  EXPECT_EQ(reason("123456789\r\n"), "a chunk size exceeds 4 GiB");
  EXPECT_EQ(reason("1;" + std::string(5000, 'e')), "a chunk line exceeds 4 KiB");
  EXPECT_EQ(reason("0\r\nX: " + std::string(5000, 't')), "a chunk line exceeds 4 KiB");
}

TEST(ExecPeer, OnlyTheHostsVsockCidOrAUnixPeerMayRunScripts) {
  const auto vsockPeer = [](unsigned cid) {
    sockaddr_storage address{};
    auto& vm = reinterpret_cast<sockaddr_vm&>(address);
    vm.svm_family = AF_VSOCK;
    vm.svm_cid = cid;
    return address;
  };
  EXPECT_TRUE(guest::execPeerAllowed(vsockPeer(VMADDR_CID_HOST)));
  EXPECT_FALSE(guest::execPeerAllowed(vsockPeer(VMADDR_CID_LOCAL)));  // the guest itself
  EXPECT_FALSE(guest::execPeerAllowed(vsockPeer(3)));
  sockaddr_storage unixPeer{};
  unixPeer.ss_family = AF_UNIX;
  EXPECT_TRUE(guest::execPeerAllowed(unixPeer));
  sockaddr_storage inetPeer{};
  inetPeer.ss_family = AF_INET;
  EXPECT_FALSE(guest::execPeerAllowed(inetPeer));
}

// Running: a zombie waiting for its reaper counts as gone.
bool alive(pid_t pid) {
  const std::string stat =
      readTextFileIfExists("/proc/" + std::to_string(pid) + "/stat").value_or("");
  const std::size_t end = stat.rfind(") ");
  return end != std::string::npos && stat.size() > end + 2 && stat[end + 2] != 'Z';
}

// The agent on a Unix socket in a thread, with or without /exec, and a host side for it.
class ExecOverSocket : public ::testing::Test {
 protected:
  void serve(bool withExec) {
    socket_ = dir_.path() / "agent.sock";
    fs::remove(socket_);
    handler_ = std::make_unique<guest::AgentHandler>(dir_.path(), [] { return "running"; });
    if (withExec)
      exec_ = std::make_unique<guest::ExecService>(std::vector<std::string>{
          "PATH=" + std::string(std::getenv("PATH")), "HOME=" + dir_.path().string()});
    server_ = std::make_unique<guest::AgentServer>(test::listenOnUnixSocket(socket_), *handler_, 2s,
                                                   exec_.get());
    thread_ = std::thread([this] { server_->run(); });
  }
  void SetUp() override { serve(true); }
  void TearDown() override {
    server_->stop();
    thread_.join();
    exec_.reset();
  }

  vm::AgentGuestShell agentShell() {
    return vm::AgentGuestShell(
        [this] {
          return vm::StreamSocket::unixSocket(socket_, vm::StreamSocket::Clock::now() + 2s,
                                              "the agent");
        },
        ssh_);
  }

  // Answers every script with status 99, as a stand-in for ssh: a run that reaches it did
  // not go through the agent.
  class NotTheAgent final : public vm::GuestShell {
   public:
    vm::GuestRun run(const std::string&, int, const std::string&,
                     const std::atomic<bool>*) override {
      ++runs;
      vm::GuestRun out;
      out.exitCode = 99;
      return out;
    }
    int runs = 0;
  };

  test::TempDir dir_;
  fs::path socket_;
  std::unique_ptr<guest::AgentHandler> handler_;
  std::unique_ptr<guest::ExecService> exec_;
  std::unique_ptr<guest::AgentServer> server_;
  std::thread thread_;
  NotTheAgent ssh_;
};

TEST_F(ExecOverSocket, AScriptGetsItsStdinAndAnswersItsStatusAndStderr) {
  vm::AgentGuestShell shell = agentShell();
  const fs::path out = dir_.path() / "out";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);     // the agent here spawns from this process
  const std::string streamed(3 << 20, 's');  // more than the agent reads ahead
  std::thread feeder([&] {
    for (std::size_t at = 0; at < streamed.size(); at += 4096)
      ASSERT_EQ(::write(fds[1], streamed.data() + at, 4096), 4096);
    ::close(fds[1]);
  });
  const vm::GuestRun run = shell.run(
      "cat > '" + out.string() + "'; echo \"home $HOME\" >&2; exit 3", fds[0], "head:", nullptr);
  feeder.join();
  ::close(fds[0]);
  EXPECT_EQ(run.exitCode, 3);
  EXPECT_EQ(run.err, "home " + dir_.path().string() + "\n");
  EXPECT_EQ(readTextFileIfExists(out).value_or(""), "head:" + streamed);
  EXPECT_TRUE(shell.throughAgent());
  EXPECT_EQ(ssh_.runs, 0);

  const vm::GuestRun killed = shell.run("kill -9 $$", -1, "", nullptr);
  EXPECT_EQ(killed.exitCode, -1);
  EXPECT_EQ(killed.termSignal, SIGKILL);
  EXPECT_TRUE(shell.run("test \"$(cat)\" = data", -1, "data", nullptr).ok());
}

// What a script has not read yet waits in its stdin pipe, not in the agent's memory: a
// buffer of the agent's own as large was about 400 page faults at each first copy after a
// boot. While the script sleeps, the host sends all that flow control lets through; this
// process's heap (the agent and the host side both live here) grows by far less.
TEST_F(ExecOverSocket, StdinAheadOfAScriptWaitsInItsPipeNotInTheAgent) {
  vm::AgentGuestShell shell = agentShell();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const std::string streamed(3 << 20, 's');
  const auto inUse = [] {  // the heap's and mmap'ed blocks'
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
  };
  const std::size_t before = inUse();
  std::thread feeder([&] {
    for (std::size_t at = 0; at < streamed.size(); at += 4096)
      ASSERT_EQ(::write(fds[1], streamed.data() + at, 4096), 4096);
    ::close(fds[1]);
  });
  vm::GuestRun run;
  std::thread host([&] { run = shell.run("sleep 1; wc -c", fds[0], "", nullptr); });
  std::this_thread::sleep_for(500ms);  // the stream has stalled at the sleeping script
  std::size_t grown = 0;
  for (int i = 0; i < 10; ++i, std::this_thread::sleep_for(20ms)) {
    const std::size_t now = inUse();
    grown = std::max(grown, now > before ? now - before : 0);
  }
  host.join();
  feeder.join();
  ::close(fds[0]);
  EXPECT_TRUE(run.ok()) << run.err;
  EXPECT_LT(grown, 512u << 10) << "bytes held in this process while the script slept";
}

TEST_F(ExecOverSocket, AScriptThatEndsEarlyIsAnsweredWithoutReadingTheRest) {
  vm::AgentGuestShell shell = agentShell();
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  // A stream that never ends: only the script's own end can end the run.
  std::atomic<bool> feeding = true;
  std::thread feeder([&] {
    const std::string block(65536, 'x');
    while (feeding && ::send(fds[1], block.data(), block.size(), MSG_NOSIGNAL) > 0) {
    }
  });
  const vm::GuestRun run =
      shell.run("head -c 100000 >/dev/null; echo done >&2; exit 5", fds[0], "", nullptr);
  feeding = false;
  ::close(fds[0]);
  feeder.join();
  ::close(fds[1]);
  EXPECT_EQ(run.exitCode, 5);
  EXPECT_EQ(run.err, "done\n");
}

TEST_F(ExecOverSocket, ACancelOrAHostThatHangsUpKillsTheWholeScript) {
  vm::AgentGuestShell shell = agentShell();
  const fs::path pids = dir_.path() / "pids";
  std::atomic<bool> cancel = false;
  std::thread canceler([&] {
    while (!fs::exists(pids) || fs::file_size(pids) < 4) std::this_thread::sleep_for(10ms);
    cancel = true;
  });
  // The script and a child it waits for: both must go.
  const vm::GuestRun run =
      shell.run("sleep 60 & echo $$ $! > '" + pids.string() + "'; wait", -1, "", &cancel);
  canceler.join();
  EXPECT_TRUE(run.canceled);
  pid_t script = 0, child = 0;
  std::istringstream(readTextFileIfExists(pids).value_or("")) >> script >> child;
  ASSERT_GT(child, 0);
  for (int i = 0; i < 100 && (alive(script) || alive(child)); ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(alive(script));
  EXPECT_FALSE(alive(child));
}

TEST_F(ExecOverSocket, AnAgentWithoutExecLeavesEveryRunToTheFallbackUntouched) {
  TearDown();
  serve(false);
  vm::AgentGuestShell shell = agentShell();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);  // the agent here spawns from this process
  ASSERT_EQ(::write(fds[1], "kept", 4), 4);
  ::close(fds[1]);
  EXPECT_EQ(shell.run("exit 0", fds[0], "", nullptr).exitCode, 99);
  char buffer[8] = {};
  EXPECT_EQ(::read(fds[0], buffer, sizeof buffer), 4) << "the stream went to the agent";
  ::close(fds[0]);
  EXPECT_EQ(shell.run("exit 0", -1, "", nullptr).exitCode, 99);
  EXPECT_FALSE(shell.throughAgent());
  EXPECT_EQ(ssh_.runs, 2);
}

// Raw requests, for what the host side never sends.
std::string rawRequest(const fs::path& socket, const std::string& request) {
  vm::StreamSocket s =
      vm::StreamSocket::unixSocket(socket, vm::StreamSocket::Clock::now() + 5s, "the agent");
  s.send(request);
  std::string reply;
  try {
    for (std::string line; !(line = s.line(4096)).empty();) reply += line;
  } catch (const std::exception&) {
  }
  return reply;
}

TEST_F(ExecOverSocket, BadBodiesFloodsAndOtherMethodsAreRefused) {
  const std::string head = "POST /exec HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_NE(rawRequest(socket_, head + "zz\r\n").find("400"), std::string::npos);
  EXPECT_NE(rawRequest(socket_, head + "3\r\nabc\r\n0\r\n\r\n").find("no NUL after the script"),
            std::string::npos);
  EXPECT_NE(rawRequest(socket_, head + "10001\r\n" + std::string(0x10001, 'a') + "\r\n")
                .find("the script exceeds 64 KiB"),
            std::string::npos);
  EXPECT_NE(rawRequest(socket_, "GET /exec HTTP/1.1\r\n\r\n").find("405"), std::string::npos);
  EXPECT_NE(rawRequest(socket_, "POST /exec HTTP/1.1\r\n\r\n").find("chunked body"),
            std::string::npos);
  EXPECT_NE(
      rawRequest(socket_, "POST /ports HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").find("413"),
      std::string::npos);

  // Four scripts waiting on their stdin take every session; a fifth is turned away.
  std::vector<vm::StreamSocket> held;
  for (std::size_t i = 0; i < guest::kMaxExecSessions; ++i) {
    held.push_back(
        vm::StreamSocket::unixSocket(socket_, vm::StreamSocket::Clock::now() + 5s, "the agent"));
    held.back().send(head + "8\r\ncat\0\0\0\0\0\r\n"s);
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_NE(rawRequest(socket_, head).find("503"), std::string::npos);
  held.clear();  // hung up: their scripts end and the sessions free up
  std::string reply;
  for (int i = 0; i < 50 && reply.find("HTTP/1.1 200") == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
    reply = rawRequest(socket_, head + "5\r\ntrue\0\r\n0\r\n\r\n"s);
  }
  EXPECT_NE(reply.find("\"exit_code\":0"), std::string::npos) << reply;
}

TEST_F(ExecOverSocket, AWorkspaceArrivesThroughTheAgentAsItsDryRunSays) {
  const fs::path repo = dir_.path() / "repo";
  fs::create_directories(repo);
  const test::Shell made = test::shell(
      "cd '" + repo.string() +
      "' && git init -q -b main && git -c user.email=t@t -c user.name=t commit -q --allow-empty"
      " -m zero && echo one > a.txt && printf '#!/bin/sh\\n' > run.sh && chmod +x run.sh"
      " && git add . && git -c user.email=t@t -c user.name=t commit -qm first"
      " && echo edited > a.txt && echo new > b.txt && git add b.txt 2>&1");
  ASSERT_EQ(made.status, 0) << made.out;
  SystemProcessRunner runner;
  vm::WorkspaceOptions options;
  options.guestPath = (dir_.path() / "guest" / "repo").string();
  const vm::WorkspacePlan plan = vm::planWorkspace(runner, repo.string(), options);
  vm::AgentGuestShell shell = agentShell();
  std::vector<std::string> stages;
  vm::copyWorkspace(
      runner, plan, shell, [&](const std::string& stage) { stages.push_back(stage); }, nullptr);
  EXPECT_EQ(stages, (std::vector<std::string>{"history", "files"}));
  EXPECT_TRUE(shell.throughAgent());
  EXPECT_EQ(ssh_.runs, 0);
  const fs::path guest = options.guestPath;
  EXPECT_EQ(readTextFileIfExists(guest / "a.txt").value_or(""), "edited\n");
  EXPECT_EQ(readTextFileIfExists(guest / "b.txt").value_or(""), "new\n");
  EXPECT_EQ(fs::status(guest / "run.sh").permissions() & fs::perms::owner_exec,
            fs::perms::owner_exec);
  EXPECT_EQ(test::shell("cd '" + guest.string() + "' && git status --porcelain").out,
            " M a.txt\n?? b.txt\n");
}

}  // namespace
}  // namespace banger
