// firecracker-fake as a process: its command line, the API socket's rules, the bytes of
// its answers, the instance state machine, --config-file, the vsock host protocol and
// the behaviours a test can ask of it at InstanceStart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/spec.h"
#include "harness.h"
#include "stand_in.h"

namespace fcfake::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string receive(int fd, std::size_t atLeast) {
  std::string out;
  char buffer[4096];
  while (out.size() < atLeast) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

std::string exchange(int fd, const std::string& bytes, std::size_t atLeast) {
  EXPECT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  return receive(fd, atLeast);
}

std::string readAll(const fs::path& file) { return banger::test::readFile(file); }

class FakeProcess : public ::testing::Test {
 protected:
  fs::path dir() const { return temp_.path(); }
  std::unique_ptr<StandIn> start(std::vector<std::string> extra = {}) {
    return std::make_unique<StandIn>(FIRECRACKER_FAKE_BIN, dir(), std::move(extra));
  }
  void boot(StandIn& fake, const std::string& extraBoot = "") {
    const std::string kernel = writeFakeKernel(dir()).string();
    ASSERT_EQ(fake.call("PUT", "/boot-source",
                        R"({"kernel_image_path":")" + kernel + R"(","boot_args":"console=ttyS0")" +
                            extraBoot + "}")
                  .status,
              204);
    ASSERT_EQ(fake.call("PUT", "/actions", R"({"action_type":"InstanceStart"})").status, 204);
  }
  banger::test::TempDir temp_;
};

TEST_F(FakeProcess, AnExistingSocketPathIsRefusedAndLeftAlone) {
  banger::test::writeFile(dir() / "api.sock", "not a socket");
  StandIn fake(FIRECRACKER_FAKE_BIN, dir());
  EXPECT_EQ(fake.wait(5s), 1);
  EXPECT_NE(readAll(dir() / "stderr.out")
                .find("Failed to open the API socket at: " + fake.apiSock() +
                      ". Check that it is not already used."),
            std::string::npos);
  EXPECT_EQ(readAll(dir() / "api.sock"), "not a socket");
}

TEST_F(FakeProcess, CommandLineErrorsExitWith153) {
  for (const std::vector<std::string>& extra : {std::vector<std::string>{"--no-such-flag"},
                                                {"--no-api"},
                                                {"--id"},
                                                {"--seccomp-filter", "f", "--no-seccomp"}}) {
    const fs::path run = dir() / std::to_string(extra.size()) / extra[0].substr(2);
    StandIn fake(FIRECRACKER_FAKE_BIN, run, extra);
    EXPECT_EQ(fake.wait(5s), 153) << extra[0];
    EXPECT_NE(readAll(run / "stderr.out").find("Arguments parsing error"), std::string::npos);
  }
}

TEST_F(FakeProcess, AnswersAreLaidOutAsMicroHttpLaysThemOutOnAKeepAliveConnection) {
  const auto fake = start();
  const int fd = connectUnix(fake->apiSock(), 5s);
  ASSERT_GE(fd, 0);
  const std::string kernel = writeFakeKernel(dir()).string();
  const std::string body = R"({"kernel_image_path":")" + kernel + R"("})";
  EXPECT_EQ(exchange(fd,
                     "PUT /boot-source HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                     "application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body,
                     1),
            "HTTP/1.1 204 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n\r\n");
  const std::string info = exchange(fd, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", 180);
  const std::string expectedBody =
      R"({"id":"test-vm","state":"Not started","vmm_version":"1.16.1","app_name":"Firecracker"})";
  EXPECT_EQ(info,
            "HTTP/1.1 200 \r\nServer: Firecracker API\r\nConnection: keep-alive\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
                std::to_string(expectedBody.size()) + "\r\n\r\n" + expectedBody);
  const std::string bad = exchange(fd, "PUT /actions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 150);
  EXPECT_EQ(bad.rfind("HTTP/1.1 400 \r\n", 0), 0u) << bad;
  EXPECT_NE(bad.find(R"({"fault_message":"An error occurred when deserializing the json body of )"
                     R"(a request: missing field `action_type`."})"),
            std::string::npos);
  close(fd);
}

TEST_F(FakeProcess, AHeaderThatIsNotUtf8GetsA400AndTheProcessStaysUp) {
  const auto fake = start();
  const int fd = connectUnix(fake->apiSock(), 5s);
  ASSERT_GE(fd, 0);
  const std::string bad =
      exchange(fd, "PUT /actions HTTP/1.1\r\nContent-Length: \xff\xfe\r\n\r\n", 60);
  close(fd);
  EXPECT_EQ(bad.rfind("HTTP/1.1 400 \r\n", 0), 0u) << bad;
  EXPECT_NE(bad.find("Invalid value. Key: Content-Length; Value: \xef\xbf\xbd\xef\xbf\xbd"),
            std::string::npos)
      << bad;
  EXPECT_EQ(fake->call("GET", "/").status, 200);
}

TEST_F(FakeProcess, OversizedBodiesAreRefusedByTheHttpLayer) {
  const auto fake = start();
  const ApiAnswer answer =
      fake->call("PUT", "/mmds", R"({"k":")" + std::string(60000, 'x') + R"("})");
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.body.find("\"error\""), std::string::npos) << answer.body;
  EXPECT_EQ(fake->call("GET", "/").status, 200);  // and it still serves
}

TEST_F(FakeProcess, AClientThatNeverReadsItsAnswersStallsOnlyItself) {
  const auto fake = start();
  const int flooder = connectUnix(fake->apiSock(), 5s);
  ASSERT_GE(flooder, 0);
  // Requests until the socket takes no more: its answers fill the way back long before.
  const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  std::size_t sent = 0;
  while (send(flooder, request.data(), request.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
         static_cast<ssize_t>(request.size()))
    ++sent;
  EXPECT_GT(sent, 100u);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fake->call("GET", "/").status, 200);
  // And the flooder, reading at last, gets answers in order.
  const std::string first = receive(flooder, 20);
  EXPECT_EQ(first.rfind("HTTP/1.1 200 \r\n", 0), 0u) << first;
  close(flooder);
  EXPECT_EQ(fake->call("GET", "/").status, 200);
}

TEST_F(FakeProcess, TheEleventhConnectionGetsMicroHttpsServerFullAndIsClosed) {
  const auto fake = start();
  std::vector<int> held;
  for (int i = 0; i < 10; ++i) {
    held.push_back(connectUnix(fake->apiSock(), 5s));
    ASSERT_GE(held.back(), 0);
  }
  // Each held connection is served: the server has taken all ten.
  for (const int fd : held)
    EXPECT_EQ(exchange(fd, "GET / HTTP/1.1\r\n\r\n", 12).substr(0, 12), "HTTP/1.1 200");
  const int eleventh = connectUnix(fake->apiSock(), 5s);
  ASSERT_GE(eleventh, 0);
  // Nothing is sent: the server answers and closes on accept, so a send could meet EPIPE.
  EXPECT_EQ(receive(eleventh, 1000),
            "HTTP/1.1 503\r\nServer: Firecracker API\r\nConnection: close\r\nContent-Length: "
            "40\r\n\r\n{ \"error\": \"Too many open connections\" }");
  close(eleventh);
  close(held.back());
  held.pop_back();
  EXPECT_TRUE(banger::test::waitFor([&] { return fake->call("GET", "/").status == 200; }, 5s));
  for (const int fd : held) close(fd);
}

TEST_F(FakeProcess, TheInstanceStateMachineHoldsFirecrackersRules) {
  const auto fake = start();
  EXPECT_EQ(fake->call("PUT", "/actions", R"({"action_type":"InstanceStart"})").fault(),
            "Start microvm error: Cannot start microvm without kernel configuration.");
  banger::test::writeFile(dir() / "bzImage", std::string("MZ") + std::string(600, '\0'));
  ASSERT_EQ(fake->call("PUT", "/boot-source",
                       Json{{"kernel_image_path", (dir() / "bzImage").string()}}.dump())
                .status,
            204);
  EXPECT_NE(fake->call("PUT", "/actions", R"({"action_type":"InstanceStart"})")
                .fault()
                .find("Invalid ELF magic number"),
            std::string::npos);
  EXPECT_EQ(
      fake->call("PUT", "/metrics", Json{{"metrics_path", (dir() / "m").string()}}.dump()).status,
      204);
  EXPECT_NE(fake->call("PUT", "/metrics", Json{{"metrics_path", (dir() / "m").string()}}.dump())
                .fault()
                .find("Reinitialization of metrics not allowed."),
            std::string::npos);
  banger::test::writeFile(dir() / "root.img", std::string(1 << 16, '\0'));
  banger::test::writeFile(dir() / "other.img", std::string(1 << 16, '\0'));
  const auto drive = [&](const std::string& id, const std::string& file, bool root) {
    return Json{{"drive_id", id},
                {"path_on_host", (dir() / file).string()},
                {"is_root_device", root},
                {"is_read_only", false}}
        .dump();
  };
  EXPECT_EQ(fake->call("PUT", "/drives/rootfs", drive("rootfs", "root.img", true)).status, 204);
  EXPECT_EQ(fake->call("PUT", "/drives/second", drive("second", "other.img", true)).fault(),
            "Drive config error: A root block device already exists!");
  EXPECT_NE(fake->call("PUT", "/drives/third", drive("third", "missing.img", false))
                .fault()
                .find("No such file or directory (os error 2)"),
            std::string::npos);
  boot(*fake);
  EXPECT_EQ(fake->call("GET", "/").body.find(R"("state":"Running")") != std::string::npos, true);
  EXPECT_EQ(fake->call("PUT", "/actions", R"({"action_type":"InstanceStart"})").fault(),
            "The requested operation is not supported after starting the microVM.");
  EXPECT_EQ(fake->call("PUT", "/drives/second", drive("second", "other.img", false)).fault(),
            "PCI is not enabled");
  EXPECT_EQ(fake->call("PUT", "/boot-source", R"({"kernel_image_path":"/x"})").fault(),
            "The requested operation is not supported after starting the microVM.");
  EXPECT_EQ(fake->call("PATCH", "/vm", R"({"state":"Paused"})").status, 204);
  EXPECT_NE(fake->call("GET", "/").body.find(R"("state":"Paused")"), std::string::npos);
  EXPECT_EQ(fake->call("PUT", "/actions", R"({"action_type":"FlushMetrics"})").status, 204);
  EXPECT_NE(readAll(dir() / "m").find("utc_timestamp_ms"), std::string::npos);
}

TEST_F(FakeProcess, SendCtrlAltDelEndsItWithZeroAndTheSocketStays) {
  const auto fake = start();
  EXPECT_EQ(fake->call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})").fault(),
            "The requested operation is not supported before starting the microVM.");
  boot(*fake);
  EXPECT_EQ(fake->call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})").status, 204);
  EXPECT_EQ(fake->wait(5s), 0);
  EXPECT_TRUE(fs::exists(fake->apiSock()));  // Firecracker never removes it
}

TEST_F(FakeProcess, SigtermKillsItByTheSignalAsFirecrackerLeavesItUnhandled) {
  const auto fake = start();
  boot(*fake);
  fake->kill(SIGTERM);
  EXPECT_EQ(fake->wait(5s), 128 + SIGTERM);
}

TEST_F(FakeProcess, BehavioursAtStartComeFromAFileBesideTheSocketOrAnArgument) {
  {
    const fs::path run = dir() / "crash";
    fs::create_directories(run);
    banger::test::writeFile(run / "api.sock.fake.json",
                            R"({"on_start":"crash","console":"Kernel panic - not syncing\n"})");
    StandIn fake(FIRECRACKER_FAKE_BIN, run);
    const std::string kernel = writeFakeKernel(run).string();
    ASSERT_EQ(fake.call("PUT", "/boot-source", Json{{"kernel_image_path", kernel}}.dump()).status,
              204);
    ASSERT_EQ(fake.call("PUT", "/actions", R"({"action_type":"InstanceStart"})").status, 204);
    EXPECT_EQ(fake.wait(5s), 1);
    EXPECT_EQ(fake.console(), "Kernel panic - not syncing\n");
  }
  {
    const fs::path run = dir() / "reboot";
    StandIn fake(FIRECRACKER_FAKE_BIN, run,
                 {"--fake-on-start", "reboot", "--fake-console", "bye\n"});
    const std::string kernel = writeFakeKernel(run).string();
    ASSERT_EQ(fake.call("PUT", "/boot-source", Json{{"kernel_image_path", kernel}}.dump()).status,
              204);
    ASSERT_EQ(
        fake.call("PUT", "/serial", Json{{"serial_out_path", (run / "serial.log").string()}}.dump())
            .status,
        204);
    ASSERT_EQ(fake.call("PUT", "/actions", R"({"action_type":"InstanceStart"})").status, 204);
    EXPECT_EQ(fake.wait(5s), 0);
    EXPECT_EQ(readAll(run / "serial.log"), "bye\n");  // not stdout once serial_out_path is set
    EXPECT_EQ(fake.console(), "");
  }
}

TEST_F(FakeProcess, ConfigFileBootsAtOnceAndABadOneExitsWith152) {
  const std::string kernel = writeFakeKernel(dir()).string();
  banger::test::writeFile(dir() / "root.img", std::string(1 << 16, '\0'));
  const Json good = {{"boot-source", {{"kernel_image_path", kernel}}},
                     {"drives", Json::array({{{"drive_id", "rootfs"},
                                              {"path_on_host", (dir() / "root.img").string()},
                                              {"is_root_device", true},
                                              {"is_read_only", true}}})},
                     {"machine-config", {{"vcpu_count", 2}, {"mem_size_mib", 256}}}};
  banger::test::writeFile(dir() / "vm.json", good.dump());
  {
    StandIn fake(FIRECRACKER_FAKE_BIN, dir(), {"--config-file", (dir() / "vm.json").string()});
    EXPECT_NE(fake.call("GET", "/").body.find(R"("state":"Running")"), std::string::npos);
    EXPECT_NE(fake.call("GET", "/machine-config").body.find(R"("vcpu_count":2)"),
              std::string::npos);
  }
  fs::remove(dir() / "api.sock");
  Json bad = good;
  bad["drives"][0]["is_root_device"] = "yes";
  banger::test::writeFile(dir() / "bad.json", bad.dump());
  StandIn fake(FIRECRACKER_FAKE_BIN, dir(), {"--config-file", (dir() / "bad.json").string()});
  EXPECT_EQ(fake.wait(5s), 152);
  EXPECT_NE(readAll(dir() / "stderr.out").find("invalid type: string \"yes\", expected a boolean"),
            std::string::npos);
}

TEST_F(FakeProcess, VsockSpeaksFirecrackersHostProtocol) {
  const auto fake = start();
  const std::string uds = (dir() / "v.sock").string();
  banger::test::writeFile(uds + ".taken", "");
  EXPECT_NE(fake->call("PUT", "/vsock", Json{{"guest_cid", 3}, {"uds_path", uds + ".taken"}}.dump())
                .fault()
                .find("Vsock config error: Cannot create backend for vsock device: Error binding "
                      "to the host-side Unix socket: Address already in use (os error 98)"),
            std::string::npos);
  EXPECT_EQ(fake->call("PUT", "/vsock", Json{{"guest_cid", 2}, {"uds_path", uds}}.dump()).status,
            400);
  const ApiAnswer deprecated = fake->call(
      "PUT", "/vsock", Json{{"guest_cid", 3}, {"uds_path", uds}, {"vsock_id", "v"}}.dump());
  EXPECT_EQ(deprecated.status, 204);
  // The test plays the guest: a listener on port 52 where the guest's would be.
  const std::string guestPath = uds + ".guest_52";
  const int guest = listenUnix(guestPath);
  ASSERT_GE(guest, 0);
  boot(*fake);
  std::thread echo([guest] {
    const int peer = accept(guest, nullptr, nullptr);
    char buffer[64];
    const ssize_t n = recv(peer, buffer, sizeof buffer, 0);
    if (n > 0) send(peer, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    close(peer);
  });
  const int host = connectUnix(uds, 5s);
  ASSERT_GE(host, 0);
  EXPECT_EQ(exchange(host, "connect 52\n", 14), "OK 1073741824\n");
  EXPECT_EQ(exchange(host, "ping", 4), "ping");
  close(host);
  echo.join();
  close(guest);
  const int nobody = connectUnix(uds, 5s);
  EXPECT_EQ(exchange(nobody, "CONNECT 53\n", 1), "");  // no guest listener: closed
  close(nobody);
}

TEST_F(FakeProcess, ATapOpensOnlyAsItWouldForAFirecrackerRunByTheCaller) {
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root: TAPs of two owners in a network namespace of the test's own";
  banger::test::NetworkNamespace netns("fcfake");
  const auto ip = [&](const std::string& args) {
    return std::system(("ip -n " + netns.name() + " " + args).c_str());
  };
  ASSERT_EQ(ip("tuntap add tap-mine mode tap user 65534"), 0);
  ASSERT_EQ(ip("tuntap add tap-theirs mode tap user 65533"), 0);
  ASSERT_EQ(ip("link add br-notap type bridge"), 0);
  // Root, as firecracker-sim is, in the namespace that holds the TAPs; sysfs still shows
  // the host's, so only the kernel's own check can tell whose a TAP is.
  const std::vector<std::string> inNetns = {"nsenter", "--net=/run/netns/" + netns.name()};
  StandIn first(FIRECRACKER_FAKE_BIN, dir() / "first", {}, "first", inNetns);
  StandIn second(FIRECRACKER_FAKE_BIN, dir() / "second", {}, "second", inNetns);
  for (const StandIn* fake : {&first, &second}) fs::permissions(fake->apiSock(), fs::perms::all);
  fs::permissions(dir(), fs::perms::owner_all | fs::perms::others_exec);
  const auto attach = [](const StandIn& fake, const std::string& tap) {
    return fake.callAs(65534, "PUT", "/network-interfaces/eth0",
                       Json{{"iface_id", "eth0"}, {"host_dev_name", tap}}.dump());
  };
  const auto refusal = [](const std::string& tap, const std::string& error) {
    return "Network config error: Could not create the network device: Open tap device "
           "failed: Error while creating ifreq structure: " +
           error + ". Invalid TUN/TAP Backend provided by " + tap +
           ". Check our documentation on setting up the network devices.";
  };
  const ApiAnswer theirs = attach(first, "tap-theirs");
  EXPECT_EQ(theirs.status, 400) << theirs.body;
  EXPECT_EQ(theirs.fault(), refusal("tap-theirs", "Operation not permitted (os error 1)"));
  EXPECT_EQ(attach(first, "br-notap").fault(),
            refusal("br-notap", "Invalid argument (os error 22)"));
  const ApiAnswer mine = attach(first, "tap-mine");
  EXPECT_EQ(mine.status, 204) << mine.body;
  // Held by the first Firecracker: a second one cannot have it too.
  EXPECT_EQ(attach(second, "tap-mine").fault(),
            refusal("tap-mine", "Device or resource busy (os error 16)"));
}

}  // namespace
}  // namespace fcfake::test
