// `.vm` routing that another local user cannot take over: resolved is routed to a
// privileged listener that Net binds and hands only to the banger-dns of the user who
// owns the routing. Each banger-dns here runs as its user, on a session bus of its own,
// in Net's namespace (where the listener lives), following Net as it would at login.
#include <pwd.h>

#include <regex>

#include "net_fixture.h"

using namespace banger;
using namespace banger::test;

namespace {

class DnsRouting : public NetNs {
 protected:
  pid_t startDns(const TestUser& user) {
    const auto home = harness->root() / ("home-" + user.name);
    std::filesystem::create_directories(home);
    chown(home.c_str(), user.uid, user.gid);
    const auto log = harness->root() / ("dns-" + user.name + ".log");
    helpers.push_back(spawnBackground({"ip",
                                       "netns",
                                       "exec",
                                       ns,
                                       "setpriv",
                                       "--reuid=" + user.name,
                                       "--regid=" + user.name,
                                       "--init-groups",
                                       "env",
                                       "-i",
                                       "PATH=/usr/bin:/bin",
                                       "HOME=" + home.string(),
                                       "DBUS_SYSTEM_BUS_ADDRESS=" + harness->systemAddress(),
                                       "dbus-run-session",
                                       "--",
                                       BANGER_DNS_BIN,
                                       "--idle-timeout",
                                       "0",
                                       "--log-level",
                                       "debug"},
                                      {}, log));
    return helpers.back();
  }
  // What `dig vm SOA` gets from `endpoint` inside Net's namespace ("" for no answer).
  std::string soa(const std::string& endpoint) {
    const auto colon = endpoint.rfind(':');
    const std::string server = std::string("@").append(endpoint, 0, colon);
    const auto r = run({"ip", "netns", "exec", ns, "dig", server, "-p", endpoint.substr(colon + 1),
                        "+time=1", "+tries=1", "+short", "vm", "SOA"});
    return r.ok() ? r.out : "";
  }
  static bool fromBangerDns(const std::string& answer) {
    return std::regex_match(
        answer, std::regex(R"(localhost\. nobody\.localhost\. \d+ 3600 600 86400 5\n)"));
  }
  // The server resolved was told to send .vm to, as "IP:PORT".
  static std::string routedTo(FakeResolved& resolved) {
    for (const auto& call : resolved.calls()) {
      if (call.rfind("server 2 ", 0) == 0) return call.substr(9);
    }
    return "";
  }
};

TEST_F(DnsRouting, AnotherUserCannotTakeTheVmRoutingAndTheOwnersDnsAnswers) {
  const TestUser& owner = host.members[0];
  const TestUser& rival = host.members[1];
  FakeResolved resolved(*harness);
  // Another local user gets there first: the old port, and the routed one if it can.
  const std::string squat =
      "import socket,sys,time\n"
      "def take(port):\n"
      "  try:\n"
      "    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):\n"
      "      s=socket.socket(socket.AF_INET, kind); s.bind(('127.0.0.1', port)); held.append(s)\n"
      "    return 'taken'\n"
      "  except OSError as e: return e.strerror\n"
      "held=[]\n"
      "print('42069:', take(42069), 'routed:', take(int(sys.argv[1])), flush=True)\n"
      "time.sleep(600)\n";
  EXPECT_EQ(call(owner.name, {"resolver", "true"}), "ok");
  const std::string routed = routedTo(resolved);
  ASSERT_FALSE(routed.empty()) << "resolved was not told where .vm goes";
  const int port = std::stoi(routed.substr(routed.rfind(':') + 1));
  EXPECT_LT(port, 1024) << routed << ": any local user could bind it first";
  const auto squatLog = harness->root() / "squat.log";
  helpers.push_back(
      spawnBackground({"ip", "netns", "exec", ns, "setpriv", "--reuid=" + host.outsider.name,
                       "--regid=" + host.outsider.name, "--init-groups", "/usr/bin/python3", "-c",
                       squat, std::to_string(port)},
                      {}, squatLog));
  ASSERT_TRUE(waitFor([&] { return readFile(squatLog).find("routed:") != std::string::npos; },
                      std::chrono::seconds(5)));
  EXPECT_EQ(readFile(squatLog), "42069: taken routed: Permission denied\n");

  startDns(owner);
  EXPECT_TRUE(waitFor([&] { return fromBangerDns(soa(routed)); }, std::chrono::seconds(15)))
      << "at " << routed << ": '" << soa(routed) << "'\n"
      << readFile(harness->root() / ("dns-" + owner.name + ".log"));

  // Nobody else gets the listener or the routing.
  const std::string denied = "error org.freedesktop.DBus.Error.AccessDenied ";
  std::string out = call(rival.name, {"dns-listener"});
  EXPECT_EQ(out.rfind(denied, 0), 0U) << out;
  EXPECT_NE(out.find("uid " + std::to_string(owner.uid)), std::string::npos) << out;
  EXPECT_EQ(call(host.outsider.name, {"dns-listener"}).rfind(denied, 0), 0U);
  out = call(rival.name, {"resolver", "true"});
  EXPECT_EQ(out.rfind("error org.banger.Error.AlreadyExists ", 0), 0U) << out;
  EXPECT_EQ(call(rival.name, {"resolver", "false"}).rfind(denied, 0), 0U);
  out = call(owner.name, {"dns-listener"});
  EXPECT_EQ(out.rfind("error org.banger.Error.Busy ", 0), 0U) << "held by its banger-dns: " << out;

  // Turned off, the owner's banger-dns lets go (Net's signal); on again, it takes it back.
  EXPECT_EQ(call(owner.name, {"resolver", "false"}), "ok");
  EXPECT_EQ(resolved.calls().back().rfind("revert ", 0), 0U);
  EXPECT_TRUE(waitFor([&] { return soa(routed).empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(call(owner.name, {"resolver", "true"}), "ok");
  EXPECT_TRUE(waitFor([&] { return fromBangerDns(soa(routed)); }, std::chrono::seconds(10)));
}

}  // namespace
