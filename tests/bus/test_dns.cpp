// banger-dns as a resolver sees it (dig, raw packets, TCP) and as D-Bus clients see it,
// fed by a stand-in Vm service on the same private session bus.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "banger/process.h"
#include "dns_query.h"
#include "harness.h"
#include "stand_in_vm.h"

using namespace banger;
using namespace banger::test;

namespace {

// The server's TCP deadline, as docs/dns.md states it.
struct DnsServerDeadlines {
  static constexpr std::chrono::seconds message{3};
};

std::vector<uint8_t> rawQuery(const std::string& name, uint16_t qtype = 1) {
  return dnsQuery(name, qtype);
}

class Dns : public ::testing::Test {
 protected:
  void SetUp() override {
    harness = std::make_unique<BusHarness>(BusHarness::Options{60, false, false, false});
    vm = std::make_unique<StandInVm>(harness->connectSession());
    vm->add("web", "running", "172.16.0.5");
    vm->add("db", "stopped", "172.16.0.6");
    startDns();
  }
  void TearDown() override {
    vm.reset();
    harness.reset();
  }
  // Activates banger-dns through the bus and waits for its records.
  void startDns() {
    auto bus = harness->connectSession();
    auto dns = sdbus::createProxy(*bus, "org.banger.Dns", "/org/banger/Dns");
    ASSERT_TRUE(waitFor(
        [&] {
          uint32_t n = dns->getProperty("RecordCount").onInterface("org.banger.Dns1.Manager");
          return n == 1;
        },
        std::chrono::seconds(10)));
  }

  // One UDP exchange from this process; nullopt on timeout.
  std::optional<std::vector<uint8_t>> udp(const std::vector<uint8_t>& packet,
                                          int timeoutMs = 1000) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(harness->dnsPort());
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    pollfd p{fd, POLLIN, 0};
    std::optional<std::vector<uint8_t>> reply;
    if (poll(&p, 1, timeoutMs) == 1) {
      std::vector<uint8_t> buffer(65535);
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
      if (n > 0) reply = std::vector<uint8_t>(buffer.begin(), buffer.begin() + n);
    }
    close(fd);
    return reply;
  }
  std::string aRecord(const std::string& name) {  // "" when not answered with an A
    const auto r = udp(rawQuery(name));
    if (!r || r->size() < 16 || ((*r)[7]) == 0) return {};
    const auto* a = r->data() + r->size() - 4;
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
           std::to_string(a[3]);
  }
  int rcodeOf(const std::vector<uint8_t>& packet) {
    const auto r = udp(packet);
    return r ? ((*r)[3] & 0x0f) : -1;
  }
  ProcessResult dig(std::vector<std::string> args) {
    args.insert(args.begin(), {"dig", "@127.0.0.1", "-p", std::to_string(harness->dnsPort()),
                               "+time=2", "+tries=1"});
    return SystemProcessRunner().run(Command(args));
  }
  static std::string status(const ProcessResult& r) {
    std::smatch m;
    return std::regex_search(r.out, m, std::regex("status: ([A-Z]+)")) ? m[1].str()
                                                                       : "none:" + r.out + r.err;
  }
  // Waits for `name` to answer `expected` (an address, or "" for none). How soon it does
  // is measured by bench-dns, side by side with dnsmasq, not asserted here.
  void expectServed(const std::string& name, const std::string& expected) {
    EXPECT_TRUE(waitFor([&] { return aRecord(name) == expected; }, std::chrono::seconds(5)))
        << name << " is still '" << aRecord(name) << "', expected '" << expected << "'";
  }

  std::unique_ptr<BusHarness> harness;
  std::unique_ptr<StandInVm> vm;
};

TEST_F(Dns, DigSeesTheZone) {
  auto r = dig({"web.vm", "A"});
  EXPECT_EQ(status(r), "NOERROR");
  EXPECT_NE(r.out.find("flags: qr aa"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(web\.vm\.\s+5\s+IN\s+A\s+172\.16\.0\.5)")))
      << r.out;
  r = dig({"WeB.Vm", "A", "+short"});
  EXPECT_EQ(r.out, "172.16.0.5\n");

  r = dig({"nope.vm", "A"});
  EXPECT_EQ(status(r), "NXDOMAIN");
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(AUTHORITY SECTION:\nvm\.\s+5\s+IN\s+SOA\s+localhost\.)")))
      << r.out;
  r = dig({"db.vm", "A"});
  EXPECT_EQ(status(r), "NXDOMAIN") << "a stopped machine has no name";

  r = dig({"web.vm", "AAAA"});
  EXPECT_EQ(status(r), "NOERROR");
  EXPECT_NE(r.out.find("ANSWER: 0, AUTHORITY: 1"), std::string::npos) << r.out;

  r = dig({"example.com", "A"});
  EXPECT_EQ(status(r), "REFUSED");

  r = dig({"vm", "SOA", "+short"});
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex(R"(localhost\. nobody\.localhost\. \d+ 3600 600 86400 5\n)")))
      << r.out;
  EXPECT_EQ(dig({"vm", "NS", "+short"}).out, "localhost.\n");
}

TEST_F(Dns, TcpEdnsAndBufsize) {
  auto r = dig({"web.vm", "+tcp", "+short"});
  EXPECT_EQ(r.out, "172.16.0.5\n") << r.err;
  r = dig({"web.vm", "+bufsize=4096"});
  EXPECT_NE(r.out.find("EDNS: version: 0, flags:; udp: 1232"), std::string::npos) << r.out;
  r = dig({"web.vm", "+bufsize=512"});
  EXPECT_EQ(status(r), "NOERROR");
  r = dig({"web.vm", "+noedns"});
  EXPECT_EQ(r.out.find("OPT PSEUDOSECTION"), std::string::npos) << r.out;
  r = dig({"web.vm", "+edns=1", "+noednsnegotiation"});
  EXPECT_EQ(status(r), "BADVERS") << r.out;
}

TEST_F(Dns, MachineChangesAreServed) {
  vm->add("api", "running", "172.16.0.9");
  expectServed("api.vm", "172.16.0.9");
  vm->set("api", "Address", "172.16.0.10");
  expectServed("api.vm", "172.16.0.10");
  vm->set("api", "State", "stopping");
  expectServed("api.vm", "");
  vm->set("api", "State", "running");
  expectServed("api.vm", "172.16.0.10");
  vm->remove("api");
  expectServed("api.vm", "");
  vm->set("db", "State", "running");
  expectServed("db.vm", "172.16.0.6");
}

TEST_F(Dns, DbusViewOfTheZone) {
  auto bus = harness->connectSession();
  auto dns = sdbus::createProxy(*bus, "org.banger.Dns", "/org/banger/Dns");
  std::vector<sdbus::Struct<std::string, std::string>> records;
  dns->callMethod("ListRecords").onInterface("org.banger.Dns1.Manager").storeResultsTo(records);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].get<0>(), "web.vm");
  EXPECT_EQ(records[0].get<1>(), "172.16.0.5");
  std::vector<std::string> addresses;
  dns->callMethod("Resolve")
      .onInterface("org.banger.Dns1.Manager")
      .withArguments(std::string("WEB.vm."))
      .storeResultsTo(addresses);
  EXPECT_EQ(addresses, std::vector<std::string>{"172.16.0.5"});
  const auto e = callError([&] {
    dns->callMethod("Resolve")
        .onInterface("org.banger.Dns1.Manager")
        .withArguments(std::string("nope"));
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.NotFound");
  const std::string listen =
      dns->getProperty("ListenAddress").onInterface("org.banger.Dns1.Manager");
  EXPECT_EQ(listen, harness->dnsAddress());

  Command cli{{BANGER_CLI_BIN, "dns", "records", "--json"}};
  cli.extraEnv = harness->clientEnvironment();
  const auto r = SystemProcessRunner().run(cli);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json::parse(R"([{"name":"web.vm","address":"172.16.0.5"}])"));
}

TEST_F(Dns, HostileInputGetsFormerrOrNothingAndOthersAreStillAnswered) {
  EXPECT_FALSE(udp({0x12, 0x34, 0x01}, 300)) << "a truncated header earns no reply";
  auto loop = rawQuery("web.vm");
  loop[12] = 0xC0;
  loop[13] = 12;
  EXPECT_EQ(rcodeOf(loop), 1) << "compression pointer loop";
  EXPECT_EQ(rcodeOf(rawQuery(std::string(64, 'a') + ".vm")), 1) << "label over 63";
  std::string longName;
  for (int i = 0; i < 5; ++i) longName += std::string(60, 'a') + ".";
  EXPECT_EQ(rcodeOf(rawQuery(longName + "vm")), 1) << "name over 255";
  auto counts = rawQuery("web.vm");
  counts[5] = 0;
  EXPECT_EQ(rcodeOf(counts), 1) << "QDCOUNT 0";
  counts[5] = 2;
  EXPECT_EQ(rcodeOf(counts), 1) << "QDCOUNT 2";

  // TCP: a slow client that never finishes its message, and one that sends garbage.
  auto connectTcp = [&] {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(harness->dnsPort());
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    return fd;
  };
  const int slow = connectTcp();
  const uint8_t half[] = {0x00};
  ASSERT_EQ(write(slow, half, 1), 1);
  const int garbage = connectTcp();
  const uint8_t junk[] = {0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};
  ASSERT_EQ(write(garbage, junk, sizeof junk), static_cast<ssize_t>(sizeof junk));
  pollfd p{garbage, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  uint8_t buffer[64];
  EXPECT_EQ(read(garbage, buffer, sizeof buffer), 0) << "garbage on TCP closes that connection";
  close(garbage);

  EXPECT_EQ(aRecord("web.vm"), "172.16.0.5") << "UDP still answered while a TCP client stalls";
  EXPECT_EQ(dig({"web.vm", "+tcp", "+short"}).out, "172.16.0.5\n") << "and TCP too";
  close(slow);
}

// The owner of org.banger.Vm sends signals whose arguments have the wrong types; the
// server ignores them and keeps serving (sdbus-c++ would have ended the process).
TEST_F(Dns, MalformedSignalsFromTheVmServiceAreIgnored) {
  auto bus = harness->connectSession();
  const pid_t before = nameOwnerPid(*bus, "org.banger.Dns");
  vm->emitMalformedSignals();
  vm->add("api", "running", "172.16.0.9");  // a well-formed one after them
  EXPECT_TRUE(waitFor([&] { return aRecord("api.vm") == "172.16.0.9"; }, std::chrono::seconds(5)));
  EXPECT_EQ(aRecord("web.vm"), "172.16.0.5");
  EXPECT_EQ(nameOwnerPid(*bus, "org.banger.Dns"), before) << "banger-dns was restarted";
}

TEST_F(Dns, ServesOnOneThread) {
  // All of it is on the event loop: no worker pool is started for nothing.
  auto bus = harness->connectSession();
  const std::string status =
      readFile("/proc/" + std::to_string(nameOwnerPid(*bus, "org.banger.Dns")) + "/status");
  EXPECT_NE(status.find("\nThreads:\t1\n"), std::string::npos) << status;
}

TEST_F(Dns, ZoneTransfersAreRefused) {
  EXPECT_EQ(rcodeOf(rawQuery("vm", 252)), 5) << "AXFR";
  EXPECT_EQ(rcodeOf(rawQuery("vm", 251)), 5) << "IXFR";
  const auto r = dig({"vm", "AXFR"});
  EXPECT_NE(r.out.find("; Transfer failed."), std::string::npos) << r.out;
}

// 140 clients each start a message and trickle a byte a second, never finishing it.
// Others are still answered over TCP at once, and every trickler is closed within the
// per-message deadline however it keeps sending.
TEST_F(Dns, TricklingTcpClientsCannotLockOthersOut) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(harness->dnsPort());
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> slow;
  const uint8_t start = 0xff;  // a length of at least 65280: the message never completes
  for (int i = 0; i < 140; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    send(fd, &start, 1, MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  const auto began = std::chrono::steady_clock::now();
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    const uint8_t byte = 0;
    while (trickling) {
      for (const int fd : slow) send(fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  });
  EXPECT_EQ(dig({"web.vm", "+tcp", "+short"}).out, "172.16.0.5\n") << "locked out";
  const auto closedByServer = [](int fd) {
    pollfd p{fd, POLLIN, 0};
    char byte;
    return poll(&p, 1, 0) == 1 && recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
  };
  const bool allClosed =
      waitFor([&] { return std::all_of(slow.begin(), slow.end(), closedByServer); },
              DnsServerDeadlines::message + std::chrono::seconds(3));
  const auto took = std::chrono::steady_clock::now() - began;
  trickling = false;
  trickle.join();
  EXPECT_TRUE(allClosed) << std::count_if(slow.begin(), slow.end(), closedByServer)
                         << " of 140 closed";
  EXPECT_LT(took, DnsServerDeadlines::message + std::chrono::seconds(3));
  for (const int fd : slow) close(fd);
  EXPECT_EQ(dig({"web.vm", "+tcp", "+short"}).out, "172.16.0.5\n");
}

TEST(DnsWithoutVm, EmptyZoneStillAnswers) {
  // No stand-in and no Vm daemon to activate: an activation file pointing nowhere.
  BusHarness harness({60, false, false, false});
  std::filesystem::remove(harness.root() / "services/org.banger.Vm.service");
  auto bus = harness.connectSession();
  auto dns = sdbus::createProxy(*bus, "org.banger.Dns", "/org/banger/Dns");
  const uint32_t count = dns->getProperty("RecordCount").onInterface("org.banger.Dns1.Manager");
  EXPECT_EQ(count, 0U);
  const auto r = SystemProcessRunner().run(
      Command({"dig", "@127.0.0.1", "-p", std::to_string(harness.dnsPort()), "+time=2", "+tries=1",
               "vm", "SOA", "+short"}));
  EXPECT_NE(r.out.find("localhost. nobody.localhost."), std::string::npos) << r.out << r.err;
}

// Another program (another user) holds the configured address first: banger-dns still
// starts and answers on D-Bus, and says it is not listening.
TEST(DnsWithItsAddressTaken, StillStartsAndAnswersOnDbus) {
  BusHarness harness({60, false, false, false});
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(harness.dnsPort());
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> squatters;
  for (const int type : {SOCK_DGRAM, SOCK_STREAM}) {
    squatters.push_back(socket(AF_INET, type | SOCK_CLOEXEC, 0));
    ASSERT_EQ(bind(squatters.back(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  }
  ASSERT_EQ(listen(squatters.back(), 8), 0);
  auto bus = harness.connectSession();
  auto dns = sdbus::createProxy(*bus, "org.banger.Dns", "/org/banger/Dns");
  const uint32_t count = dns->getProperty("RecordCount").onInterface("org.banger.Dns1.Manager");
  EXPECT_EQ(count, 0U);
  const std::string listen =
      dns->getProperty("ListenAddress").onInterface("org.banger.Dns1.Manager");
  EXPECT_EQ(listen, "") << "it serves no socket, and must not say it does";
  for (const int fd : squatters) close(fd);
}

TEST(DnsSocketActivation, TakesTheSocketsItIsGiven) {
  BusHarness harness({60, false, false, false});
  const uint16_t port = freeLoopbackPort();
  for (const bool datagram : {true, false}) {
    std::vector<std::string> argv{"systemd-socket-activate", "-l",
                                  "127.0.0.1:" + std::to_string(port)};
    if (datagram) argv.push_back("--datagram");
    for (const auto& [k, v] : harness.clientEnvironment())
      argv.push_back("--setenv=" + k + "=" + v);
    // If it ignored the passed socket it would bind this address instead and the
    // queries below would go unanswered.
    argv.insert(argv.end(), {BANGER_DNS_BIN, "--idle-timeout", "0"});
    const pid_t pid = spawnBackground(argv, {}, harness.root() / "socket-activate.log");
    std::vector<std::string> digArgs{"dig",     "@127.0.0.1", "-p", std::to_string(port),
                                     "+time=1", "+tries=1",   "vm", "SOA",
                                     "+short"};
    if (!datagram) digArgs.push_back("+tcp");
    const bool answered = waitFor(
        [&] {
          return SystemProcessRunner().run(Command(digArgs)).out.find("localhost.") !=
                 std::string::npos;
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(answered) << (datagram ? "UDP" : "TCP") << ": "
                          << readFile(harness.root() / "socket-activate.log");
    stopProcess(pid);
    // The bus name is free again before the next round.
    auto bus = harness.connectSession();
    waitFor([&] { return !nameHasOwner(*bus, "org.banger.Dns"); }, std::chrono::seconds(5));
  }
}

// The reply to the query that starts banger-dns: the listening socket exists before the
// daemon, as systemd's would, and the query waits in its buffer until banger-dns reads it.
struct FirstAnswer {
  std::vector<uint8_t> reply;  // empty: none within 10 s
  std::chrono::milliseconds after{0};
  std::string log;
};
FirstAnswer startByAQuery(const BusHarness& harness, const std::string& name) {
  const int listener = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t length = sizeof sa;
  getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &length);
  const int client = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const auto query = dnsQuery(name, 1);
  sendto(client, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);

  const auto log = harness.root() / "activated-dns.log";
  const auto began = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(listener, 3);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out, 1);
    dup2(out, 2);
    for (const auto& [k, v] : harness.clientEnvironment()) setenv(k.c_str(), v.c_str(), 1);
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    execl(BANGER_DNS_BIN, BANGER_DNS_BIN, "--idle-timeout", "0", "--log-level", "debug",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(listener);
  FirstAnswer answer;
  pollfd p{client, POLLIN, 0};
  std::vector<uint8_t> reply(512);
  if (poll(&p, 1, 10'000) == 1) {
    const ssize_t n = recv(client, reply.data(), reply.size(), 0);
    if (n > 0) answer.reply.assign(reply.begin(), reply.begin() + n);
  }
  answer.after = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - began);
  close(client);
  stopProcess(pid);
  answer.log = readFile(log);
  return answer;
}

// A resolver's query is what starts banger-dns (socket activation): that very first
// query must be answered from the Vm service's machines, not from an empty zone whose
// NXDOMAIN resolvers would then cache.
TEST(DnsSocketActivation, TheQueryThatStartsItIsAnsweredFromTheVmServicesMachines) {
  BusHarness harness({60, false, false, false});
  StandInVm vm(harness.connectSession());
  vm.add("web", "running", "172.16.0.5");
  // The Vm service answers, but not at once: the query is read before its machines come.
  vm.stall(std::chrono::milliseconds(400));
  const auto first = startByAQuery(harness, "web.vm");
  ASSERT_GE(first.reply.size(), 16U) << "no answer; " << first.log;
  EXPECT_EQ(first.reply[3] & 0x0f, 0) << "the first answer is not NOERROR; " << first.log;
  EXPECT_EQ(std::vector<uint8_t>(first.reply.end() - 4, first.reply.end()),
            (std::vector<uint8_t>{172, 16, 0, 5}))
      << first.log;
}

// The wait is bounded (docs/dns.md): a Vm service that does not answer within a second
// does not hold the answers up longer.
TEST(DnsSocketActivation, AVmServiceThatDoesNotAnswerDelaysTheFirstAnswerAtMostASecond) {
  BusHarness harness({60, false, false, false});
  StandInVm vm(harness.connectSession());
  vm.add("web", "running", "172.16.0.5");
  vm.stall(std::chrono::seconds(3));
  const auto first = startByAQuery(harness, "web.vm");
  ASSERT_GE(first.reply.size(), 12U) << "no answer; " << first.log;
  EXPECT_LT(first.after, std::chrono::milliseconds(2500)) << first.log;
  EXPECT_NE(first.log.find("has not answered in time"), std::string::npos) << first.log;
}

}  // namespace
