// org.banger.Net on the real kernel: each test runs banger-net (activated by a private
// system bus with the project's policy and the real polkitd) inside network namespaces
// it creates, and calls it as root and as other uids.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "banger/process.h"
#include "harness.h"
#include "unit_credentials.h"

using namespace banger;
using namespace banger::test;
using nlohmann::json;

namespace {

struct TestUser {
  std::string name;
  uid_t uid = 0;
};

const char* const kGroupMembers[] = {"banger-t1", "banger-t2", "banger-t3", "banger-t4",
                                     "banger-t5"};
const char* const kOutsider = "banger-tout";

ProcessResult run(std::vector<std::string> argv,
                  std::chrono::seconds timeout = std::chrono::seconds(30)) {
  Command c(std::move(argv));
  c.timeout = timeout;
  return SystemProcessRunner().run(c);
}

TestUser ensureUser(const std::string& name, bool inGroup) {
  if (getpwnam(name.c_str()) == nullptr) {
    std::vector<std::string> argv{"useradd", "--system", "--no-create-home", "--shell",
                                  "/usr/sbin/nologin"};
    if (inGroup) argv.insert(argv.end(), {"--groups", "banger"});
    argv.push_back(name);
    const auto r = run(argv);
    if (!r.ok()) throw std::runtime_error("useradd " + name + ": " + r.err);
  }
  return {name, getpwnam(name.c_str())->pw_uid};
}

// Users, group and polkit files the suite needs; installed once, polkit files removed
// again unless they were already there (an installed banger keeps its own).
class NetEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (geteuid() != 0) return;
    run({"groupadd", "-f", "--system", "banger"});
    for (const char* name : kGroupMembers) members.push_back(ensureUser(name, true));
    outsider = ensureUser(kOutsider, false);
    install(std::string(BANGER_SOURCE_DIR) + "/dbus-policy/org.banger.Net.policy",
            "/usr/share/polkit-1/actions/org.banger.Net.policy");
    install(std::string(BANGER_SOURCE_DIR) + "/dbus-policy/50-org.banger.Net.rules",
            "/usr/share/polkit-1/rules.d/50-org.banger.Net.rules");
    // Firecracker opens /dev/net/tun as the user: Debian's udev makes it 0666.
    tunMode_ = std::filesystem::status("/dev/net/tun").permissions();
    std::filesystem::permissions("/dev/net/tun", std::filesystem::perms(0666));
  }
  void TearDown() override {
    for (const auto& f : installed_) std::filesystem::remove(f);
    if (geteuid() == 0) std::filesystem::permissions("/dev/net/tun", tunMode_);
  }
  std::vector<TestUser> members;
  TestUser outsider;

 private:
  void install(const std::string& from, const std::string& to) {
    if (std::filesystem::exists(to)) return;
    std::filesystem::create_directories(std::filesystem::path(to).parent_path());
    std::filesystem::copy_file(from, to);
    installed_.push_back(to);
  }
  std::vector<std::string> installed_;
  std::filesystem::perms tunMode_{};
};
NetEnvironment* const environment =
    static_cast<NetEnvironment*>(::testing::AddGlobalTestEnvironment(new NetEnvironment));

struct LeaseLine {
  std::string tap, mac, address, prefix, gateway;
};

class NetNs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "the netns suite needs root (namespaces, TAPs, polkitd); CI runs it as root";
    BusHarness::Options options;
    options.isolateNetwork = true;
    harness = std::make_unique<BusHarness>(options);
    ns = harness->netns();
  }

  // net-call as root (user empty) or as `user`; returns its one output line.
  std::string call(const std::string& user, std::vector<std::string> args) {
    std::vector<std::string> argv{BANGER_NET_CALL_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!user.empty()) {
      argv.insert(argv.begin(), {"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"});
    }
    Command c(argv);
    c.extraEnv = harness->clientEnvironment();
    c.timeout = std::chrono::seconds(60);
    const auto r = SystemProcessRunner().run(c);
    EXPECT_TRUE(r.ok()) << r.err;
    std::string out = r.out;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  static LeaseLine parseLease(const std::string& line) {
    std::istringstream words(line);
    std::string ok;
    LeaseLine l;
    words >> ok >> l.tap >> l.mac >> l.address >> l.prefix >> l.gateway;
    EXPECT_EQ(ok, "ok") << line;
    return l;
  }

  json links() {
    const auto r = run({"ip", "-n", ns, "-d", "-j", "link", "show"});
    EXPECT_TRUE(r.ok()) << r.err;
    return json::parse(r.out);
  }
  json link(const std::string& name) {
    for (auto& l : links()) {
      if (l["ifname"] == name) return l;
    }
    return json();
  }
  std::set<std::string> tapNames() {
    std::set<std::string> out;
    for (auto& l : links()) {
      if (l["ifname"].get<std::string>().rfind("bg-", 0) == 0) out.insert(l["ifname"]);
    }
    return out;
  }
  void expectOwnedBridgedTap(const std::string& tap, const std::string& owner) {
    const json l = link(tap);
    ASSERT_FALSE(l.is_null()) << tap << " does not exist";
    EXPECT_EQ(l["linkinfo"]["info_kind"], "tun");
    EXPECT_EQ(l["linkinfo"]["info_data"]["type"], "tap");
    EXPECT_EQ(l["linkinfo"]["info_data"]["persist"], true);
    EXPECT_EQ(l["linkinfo"]["info_data"]["user"], owner);
    EXPECT_EQ(l["master"], "banger0");
    const auto& flags = l["flags"];
    EXPECT_NE(std::find(flags.begin(), flags.end(), "UP"), flags.end()) << l.dump();
  }
  void sysctlForward(int value) {
    const auto r = run({"ip", "netns", "exec", ns, "sysctl", "-qw",
                        "net.ipv4.ip_forward=" + std::to_string(value)});
    ASSERT_TRUE(r.ok()) << r.err;
  }
  std::optional<json> natTable() {
    const auto r = run({"ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", "banger"});
    if (!r.ok()) return std::nullopt;
    return json::parse(r.out);
  }
  static std::set<std::string> natElements(const json& table) {
    std::set<std::string> out;
    for (const auto& item : table["nftables"]) {
      if (item.contains("set") && item["set"]["name"] == "nat_hosts" &&
          item["set"].contains("elem")) {
        for (const auto& e : item["set"]["elem"]) out.insert(e.get<std::string>());
      }
    }
    return out;
  }

  // Attaches to `tap` as `user`, as Firecracker does, until the test ends.
  void holdTap(const std::string& tap, const std::string& user) {
    const auto log = harness->root() / ("hold-" + tap + ".log");
    holders.push_back(
        spawnBackground({"ip", "netns", "exec", ns, "setpriv", "--reuid=" + user, "--regid=" + user,
                         "--init-groups", BANGER_TAP_GUEST_BIN, "hold", tap},
                        {}, log));
    ASSERT_TRUE(waitFor([&] { return readFile(log).find("held") != std::string::npos; },
                        std::chrono::seconds(5)))
        << readFile(log);
  }
  bool attached(const std::string& tap) {
    const json l = link(tap);
    if (l.is_null()) return false;
    const auto& flags = l["flags"];
    return std::find(flags.begin(), flags.end(), "LOWER_UP") != flags.end();
  }
  void TearDown() override {
    for (const pid_t pid : holders) stopProcess(pid);
  }

  std::unique_ptr<BusHarness> harness;
  std::string ns;
  std::vector<pid_t> holders;
};

// Fields of /proc/PID/status.
std::map<std::string, std::string> procStatus(pid_t pid) {
  std::map<std::string, std::string> out;
  std::istringstream lines(readFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto value = line.find_first_not_of(" \t", colon + 1);
    out[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return out;
}

// The harness starts banger-net through setpriv with the unit's credentials (as its
// unit would); the daemon must then hold exactly the unit's ambient capabilities, got
// from the ambient set and not from being uid 0, and still do its whole job.
TEST_F(NetNs, UnderItsUnitsCredentialsNetHoldsExactlyItsAmbientCapabilities) {
  const auto unit = UnitCredentials::load(netUnitTemplate());
  ASSERT_FALSE(unit.ambient.empty())
      << "banger-net.service grants no AmbientCapabilities=: under SecureBits=noroot the "
         "daemon would run with none";
  ASSERT_TRUE(unit.secureBits.count("noroot"))
      << "without SecureBits=noroot uid 0 gets the whole bounding set at exec, not only "
         "the ambient capabilities";
  sysctlForward(1);
  const LeaseLine lease = parseLease(call("", {"acquire", "vm-caps", "nat=true"}));
  expectOwnedBridgedTap(lease.tap, "root");
  ASSERT_TRUE(natTable());
  EXPECT_EQ(natElements(*natTable()), std::set<std::string>{lease.address});

  auto bus = harness->connectSystem();
  const auto status = procStatus(nameOwnerPid(*bus, "org.banger.Net"));
  const auto hex = [&](const std::string& field) {
    return std::stoull(status.at(field), nullptr, 16);
  };
  const uint64_t granted = UnitCredentials::mask(unit.ambient);
  EXPECT_EQ(hex("CapAmb"), granted);
  EXPECT_EQ(hex("CapEff"), granted);
  EXPECT_EQ(hex("CapPrm"), granted);
  EXPECT_EQ(hex("CapBnd"), UnitCredentials::mask(unit.boundingSet));
  EXPECT_EQ(status.at("NoNewPrivs"), "1");
  EXPECT_EQ(call("", {"release", "vm-caps"}), "ok");
  EXPECT_EQ(call("", {"list"}), "ok");
}

TEST_F(NetNs, RootAcquiresAnOwnedBridgedTapAndTheSameLeaseAgain) {
  const std::string first = call("", {"acquire", "vm-1"});
  const LeaseLine lease = parseLease(first);
  expectOwnedBridgedTap(lease.tap, "root");
  EXPECT_EQ(lease.address.rfind("172.16.0.", 0), 0U) << lease.address;
  EXPECT_NE(lease.address, "172.16.0.0");
  EXPECT_NE(lease.address, "172.16.0.1");
  EXPECT_NE(lease.address, "172.16.0.255");
  EXPECT_EQ(lease.prefix, "24");
  EXPECT_EQ(lease.gateway, "172.16.0.1");
  EXPECT_EQ(lease.mac.rfind("0e:62:", 0), 0U);
  const auto addr = run({"ip", "-n", ns, "-j", "addr", "show", "banger0"});
  EXPECT_NE(addr.out.find("\"local\":\"172.16.0.1\",\"prefixlen\":24"), std::string::npos)
      << addr.out;
  EXPECT_EQ(call("", {"acquire", "vm-1"}), first);
}

TEST_F(NetNs, GroupMembersGetTheirOwnLeasesOutsidersAreDeniedEverything) {
  const auto& a = environment->members[0];
  const auto& b = environment->members[1];
  const LeaseLine lease = parseLease(call(a.name, {"acquire", "vm-a"}));
  expectOwnedBridgedTap(lease.tap, a.name);

  const std::string denied = "error org.freedesktop.DBus.Error.AccessDenied ";
  for (const auto& args : std::vector<std::vector<std::string>>{{"acquire", "vm-x"},
                                                                {"acquire", "vm-a"},
                                                                {"release", "vm-a"},
                                                                {"setnat", "vm-a", "true"},
                                                                {"resolver", "true"}}) {
    const std::string out = call(environment->outsider.name, args);
    EXPECT_EQ(out.rfind(denied, 0), 0U) << args[0] << ": " << out;
    EXPECT_NE(out.find("banger"), std::string::npos)
        << "the denial should say how to get access: " << out;
  }

  // B cannot see, release or NAT A's lease: to B it does not exist.
  const std::string notFound = "error org.banger.Error.NotFound ";
  EXPECT_EQ(call(b.name, {"release", "vm-a"}).rfind(notFound, 0), 0U);
  EXPECT_EQ(call(b.name, {"setnat", "vm-a", "false"}).rfind(notFound, 0), 0U);
  EXPECT_EQ(call(b.name, {"list"}), "ok");
  const LeaseLine bLease = parseLease(call(b.name, {"acquire", "vm-a"}));  // B's own vm-a
  EXPECT_NE(bLease.tap, lease.tap);
  expectOwnedBridgedTap(bLease.tap, b.name);
  EXPECT_EQ(call(a.name, {"list"}),
            "ok " + std::to_string(a.uid) + ":vm-a:" + lease.tap + ":" + lease.address + ":nonat");
  const std::string all = call("", {"list"});
  EXPECT_NE(all.find(std::to_string(a.uid) + ":vm-a:" + lease.tap), std::string::npos) << all;
  EXPECT_NE(all.find(std::to_string(b.uid) + ":vm-a:" + bLease.tap), std::string::npos) << all;
  EXPECT_EQ(call(a.name, {"release", "vm-a"}), "ok");
  EXPECT_NE(call("", {"list"}).find(std::to_string(b.uid) + ":vm-a:"), std::string::npos)
      << "B's lease survived A's release";
}

TEST_F(NetNs, NatLetsTheGuestOutAndOutsideSeesTheHostAddress) {
  NetworkNamespace outside("out"), guest("guest");
  auto must = [](std::vector<std::string> argv) {
    const auto r = run(argv);
    ASSERT_TRUE(r.ok()) << argv[0] << " " << argv[1] << " " << argv[2] << ": " << r.err;
  };
  // host <-> outside: 192.0.2.0/24 (TEST-NET-1, only inside these namespaces); the
  // host's default route points outside.
  must({"ip", "-n", ns, "link", "add", "vout", "type", "veth", "peer", "name", "vin", "netns",
        outside.name()});
  must({"ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", "vout"});
  must({"ip", "-n", ns, "link", "set", "vout", "up"});
  must({"ip", "-n", ns, "route", "add", "default", "via", "192.0.2.2"});
  must({"ip", "-n", outside.name(), "addr", "add", "192.0.2.2/24", "dev", "vin"});
  must({"ip", "-n", outside.name(), "link", "set", "vin", "up"});
  sysctlForward(1);

  const LeaseLine lease = parseLease(call("", {"acquire", "guest", "nat=false"}));
  // The guest: a veth on banger0 standing in for the VM's TAP, with the leased address.
  must({"ip", "-n", ns, "link", "add", "vg", "type", "veth", "peer", "name", "eth0", "netns",
        guest.name()});
  must({"ip", "-n", ns, "link", "set", "vg", "master", "banger0", "up"});
  must({"ip", "-n", guest.name(), "addr", "add", lease.address + "/24", "dev", "eth0"});
  must({"ip", "-n", guest.name(), "link", "set", "eth0", "up"});
  must({"ip", "-n", guest.name(), "route", "add", "default", "via", lease.gateway});

  // Outside: a TCP server that answers every connection with the peer's address.
  const std::string server =
      "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
      "s.bind(('0.0.0.0', 8080)); s.listen(8)\nwhile True:\n  c,a=s.accept(); "
      "c.sendall(a[0].encode()); c.close()\n";
  const pid_t serverPid =
      spawnBackground(outside.exec({"python3", "-c", server}), {}, harness->root() / "server.log");
  const std::string client =
      "import socket,sys\ns=socket.create_connection(('192.0.2.2', 8080), "
      "timeout=2)\nprint(s.recv(64).decode())\n";
  auto connectFrom = [&](const std::string& netns) {
    return run({"ip", "netns", "exec", netns, "python3", "-c", client}, std::chrono::seconds(10));
  };
  ASSERT_TRUE(waitFor([&] { return connectFrom(ns).ok(); }, std::chrono::seconds(10)))
      << "the outside server did not come up";

  EXPECT_FALSE(connectFrom(guest.name()).ok()) << "without NAT the guest must not get out";
  EXPECT_EQ(call("", {"setnat", "guest", "true"}), "ok");
  const auto withNat = connectFrom(guest.name());
  EXPECT_TRUE(withNat.ok()) << withNat.err;
  EXPECT_EQ(withNat.out, "192.0.2.1\n") << "outside should see the host's address";
  EXPECT_EQ(natElements(*natTable()), std::set<std::string>{lease.address});
  EXPECT_EQ(call("", {"setnat", "guest", "false"}), "ok");
  EXPECT_FALSE(connectFrom(guest.name()).ok());
  EXPECT_FALSE(natTable()) << "no NAT lease left, so no table";
  stopProcess(serverPid);
}

TEST_F(NetNs, FiftyConcurrentAcquiresFromFiveUidsNeverCollide) {
  std::vector<std::future<std::pair<std::string, std::string>>> calls;
  for (int i = 0; i < 50; ++i) {
    const std::string user = environment->members[static_cast<size_t>(i % 5)].name;
    calls.push_back(std::async(std::launch::async, [this, user, i] {
      return std::make_pair(user, call(user, {"acquire", "vm-" + std::to_string(i)}));
    }));
  }
  std::set<std::string> taps, macs, addresses;
  std::map<std::string, std::string> ownerOf;
  for (auto& f : calls) {
    const auto [user, line] = f.get();
    const LeaseLine l = parseLease(line);
    taps.insert(l.tap);
    macs.insert(l.mac);
    addresses.insert(l.address);
    ownerOf[l.tap] = user;
  }
  EXPECT_EQ(taps.size(), 50U);
  EXPECT_EQ(macs.size(), 50U);
  EXPECT_EQ(addresses.size(), 50U);
  for (const auto& [tap, user] : ownerOf) expectOwnedBridgedTap(tap, user);
}

TEST_F(NetNs, KillNineThenRestartReconcilesAndReleasingLeavesOnlyThePool) {
  sysctlForward(1);
  const auto& a = environment->members[0];
  const LeaseLine natted = parseLease(call("", {"acquire", "vm-1", "nat=true"}));
  const LeaseLine plain = parseLease(call("", {"acquire", "vm-2"}));
  const LeaseLine held = parseLease(call(a.name, {"acquire", "vm-a"}));
  holdTap(held.tap, a.name);  // its Firecracker keeps running across the restart

  auto bus = harness->connectSystem();
  const pid_t pid = nameOwnerPid(*bus, "org.banger.Net");
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  ASSERT_TRUE(
      waitFor([&] { return !nameHasOwner(*bus, "org.banger.Net"); }, std::chrono::seconds(5)));

  // While it is down: a lease's TAP vanishes, the table is lost, and bg-* links appear
  // that banger did not make (a TAP, a veth) next to one it did (its marker) but never
  // recorded, as a crash between creating and recording would leave.
  ASSERT_TRUE(run({"ip", "-n", ns, "link", "del", plain.tap}).ok());
  ASSERT_TRUE(run({"ip", "-n", ns, "tuntap", "add", "bg-77", "mode", "tap"}).ok());
  ASSERT_TRUE(
      run({"ip", "-n", ns, "link", "add", "bg-veth", "type", "veth", "peer", "name", "other-end"})
          .ok());
  ASSERT_TRUE(run({"ip", "-n", ns, "tuntap", "add", "bg-78", "mode", "tap"}).ok());
  ASSERT_TRUE(run({"ip", "-n", ns, "link", "set", "bg-78", "alias", "banger"}).ok());
  ASSERT_TRUE(run({"ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "banger"}).ok());

  EXPECT_EQ(call("", {"list"}).rfind("ok ", 0), 0U);  // activates it again
  expectOwnedBridgedTap(plain.tap, "root");
  expectOwnedBridgedTap(held.tap, a.name);
  EXPECT_TRUE(attached(held.tap));
  EXPECT_FALSE(link("bg-77").is_null()) << "a bg-* TAP banger did not make is not its to delete";
  EXPECT_FALSE(link("bg-veth").is_null());
  EXPECT_TRUE(link("bg-78").is_null()) << "banger's own unrecorded TAP survived";
  ASSERT_TRUE(natTable());
  EXPECT_EQ(natElements(*natTable()), std::set<std::string>{natted.address});

  EXPECT_EQ(call("", {"release", "vm-1"}), "ok");
  EXPECT_EQ(call("", {"release", "vm-2"}), "ok");
  EXPECT_EQ(call(a.name, {"release", "vm-a"}), "ok");
  EXPECT_EQ(call("", {"list"}), "ok");
  EXPECT_TRUE(link(held.tap).is_null()) << "released while held open: deleted, not pooled";
  // What is left is the warm pool: at most pool_size (2) idle TAPs per uid, each unused,
  // once the surplus released TAPs have been trimmed (shortly after the last release).
  std::map<std::string, int> perOwner;
  auto countPerOwner = [&] {
    perOwner.clear();
    for (const auto& l : links()) {  // one snapshot: the trim may be deleting TAPs meanwhile
      const std::string name = l["ifname"];
      if (name.rfind("bg-", 0) != 0 || name == "bg-77" || name == "bg-veth") continue;
      ++perOwner[l["linkinfo"]["info_data"]["user"].get<std::string>()];
    }
    return perOwner["root"] <= 2 && perOwner[a.name] <= 2;
  };
  EXPECT_TRUE(waitFor(countPerOwner, std::chrono::seconds(10)));
  for (const auto& [owner, count] : perOwner) EXPECT_LE(count, 2) << owner;
  EXPECT_EQ(perOwner.size(), 2U) << "only root's and " << a.name << "'s pools";
  EXPECT_FALSE(natTable()) << "the table must match the database: no NAT lease, no table";
}

// Firecracker keeps its TAP open for as long as the VM runs; banger must never hand a
// TAP somebody holds to another VM, nor leave one on the bridge with its address reused.
TEST_F(NetNs, TapsHeldOpenAreDeletedAndNeverHandedToAnotherVm) {
  const auto& a = environment->members[0];
  const LeaseLine first = parseLease(call(a.name, {"acquire", "vm-1"}));
  // The pool is topped up after the reply: wait for a's two warm TAPs.
  ASSERT_TRUE(waitFor([&] { return tapNames().size() == 3; }, std::chrono::seconds(10)));
  std::set<int> heldDevices;  // names are reused; a device is its ifindex
  for (const auto& tap : tapNames()) {
    holdTap(tap, a.name);  // the lease's TAP and both pooled ones
    heldDevices.insert(link(tap)["ifindex"].get<int>());
  }
  ASSERT_TRUE(attached(first.tap));

  EXPECT_EQ(call(a.name, {"release", "vm-1"}), "ok");
  EXPECT_TRUE(link(first.tap).is_null()) << "released while held open, yet still there";
  const LeaseLine second = parseLease(call(a.name, {"acquire", "vm-2"}));
  expectOwnedBridgedTap(second.tap, a.name);
  EXPECT_FALSE(attached(second.tap)) << second.tap << " is held by another process";
  ASSERT_TRUE(waitFor([&] { return tapNames().size() == 3; }, std::chrono::seconds(10)));
  for (const auto& l : links()) {
    EXPECT_EQ(heldDevices.count(l["ifindex"].get<int>()), 0U)
        << l["ifname"] << " is a TAP that was held open";
  }
}

TEST_F(NetNs, TrimmingDeletesSurplusTapsEvenWhileHeld) {
  const auto& a = environment->members[0];
  for (const char* vm : {"vm-1", "vm-2", "vm-3"}) parseLease(call(a.name, {"acquire", vm}));
  ASSERT_TRUE(waitFor([&] { return tapNames().size() == 5; }, std::chrono::seconds(10)));
  for (const char* vm : {"vm-1", "vm-2", "vm-3"}) EXPECT_EQ(call(a.name, {"release", vm}), "ok");
  for (const auto& tap : tapNames()) holdTap(tap, a.name);  // 5 pooled, all held open
  // The trim runs two seconds after the last release.
  EXPECT_TRUE(waitFor([&] { return tapNames().size() <= 2; }, std::chrono::seconds(10)))
      << tapNames().size() << " TAPs left";
  const LeaseLine next = parseLease(call(a.name, {"acquire", "vm-4"}));
  EXPECT_FALSE(attached(next.tap)) << "a held TAP was handed to a new VM";
}

// A local user outside the group keeps 2000 AcquireLease calls in flight for seconds;
// a member's calls meanwhile must all succeed, and the flood gets only denials and Busy.
TEST_F(NetNs, AnOutsidersFloodNeverGetsMembersDenied) {
  // Running first: calls that wait for an activation meet the bus's own limit (512).
  ASSERT_EQ(call("", {"list"}), "ok");
  auto flood = std::async(std::launch::async, [this] {
    return call(environment->outsider.name, {"flood", "2000", "20", "6"});
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // under way
  const auto& member = environment->members[1];
  std::vector<std::future<std::string>> calls;
  for (int i = 0; i < 20; ++i) {
    calls.push_back(std::async(std::launch::async, [this, &member, i] {
      return call(member.name, {"acquire", "vm-" + std::to_string(i)});
    }));
  }
  for (auto& f : calls) {
    const std::string out = f.get();
    EXPECT_EQ(out.rfind("ok bg-", 0), 0U) << out;
  }
  std::map<std::string, int> outcomes;
  std::istringstream words(flood.get());
  std::string word;
  words >> word;
  ASSERT_EQ(word, "ok");
  while (words >> word) {
    outcomes[word.substr(0, word.find('='))] = std::stoi(word.substr(word.find('=') + 1));
  }
  EXPECT_GT(outcomes["org.freedesktop.DBus.Error.AccessDenied"], 0);
  EXPECT_GT(outcomes["org.banger.Error.Busy"], 0) << "the flood never filled its share";
  outcomes.erase("org.freedesktop.DBus.Error.AccessDenied");
  outcomes.erase("org.banger.Error.Busy");
  EXPECT_TRUE(outcomes.empty()) << "the outsider got something else: " << outcomes.begin()->first;
  const std::string held = call(member.name, {"list"});
  EXPECT_EQ(std::count(held.begin(), held.end(), ' '), 20) << "all 20 leases held: " << held;
}

// MemoryMax= of banger-net.service in bytes.
uint64_t unitMemoryMax() {
  std::smatch m;
  const std::string unit = readFile(netUnitTemplate());
  if (!std::regex_search(unit, m, std::regex(R"(\nMemoryMax=(\d+)([KMG]?)\n)"))) return 0;
  const uint64_t shift = m[2] == "G" ? 30 : m[2] == "M" ? 20 : m[2] == "K" ? 10 : 0;
  return std::stoull(m[1]) << shift;
}

// /proc/PID/status sizes ("1234 kB") in bytes.
uint64_t statusBytes(pid_t pid, const std::string& field) {
  return std::stoull(procStatus(pid).at(field)) * 1024;
}

// Any local user may send Net one huge message; it is refused before it is unpacked, the
// daemon stays far below its unit's MemoryMax, and what the message took is given back.
TEST_F(NetNs, AMillionOptionKeysAreRefusedUnreadAndTheMemoryComesBack) {
  const uint64_t memoryMax = unitMemoryMax();
  ASSERT_GT(memoryMax, 0U) << "banger-net.service sets no MemoryMax=";
  ASSERT_EQ(call("", {"list"}), "ok");
  auto bus = harness->connectSystem();
  const pid_t pid = nameOwnerPid(*bus, "org.banger.Net");
  const uint64_t before = statusBytes(pid, "VmRSS");

  std::string out = call(environment->outsider.name, {"acquire-keys", "vm-big", "1000000"});
  EXPECT_EQ(out.rfind("error org.banger.Error.InvalidArgument ", 0), 0U) << out;
  EXPECT_NE(out.find("too large"), std::string::npos) << out;
  EXPECT_EQ(nameOwnerPid(*bus, "org.banger.Net"), pid) << "the daemon died";
  const uint64_t peak = statusBytes(pid, "VmHWM");
  EXPECT_LT(peak, memoryMax) << "peak RSS " << (peak >> 20) << " MiB";
  std::cout << "banger-net with a 1M-key message: peak RSS " << (peak >> 20) << " MiB (from "
            << (before >> 20) << " MiB; MemoryMax " << (memoryMax >> 20) << " MiB)\n";
  EXPECT_TRUE(waitFor([&] { return statusBytes(pid, "VmRSS") < before + (16 << 20); },
                      std::chrono::seconds(5)))
      << "RSS " << (statusBytes(pid, "VmRSS") >> 20) << " MiB, " << (before >> 20) << " MiB before";

  // Small enough to be read, yet more keys than any Net method takes.
  out = call("", {"acquire-keys", "vm-x", "40"});
  EXPECT_EQ(out.rfind("error org.banger.Error.InvalidArgument ", 0), 0U) << out;
  EXPECT_NE(out.find("at most 32"), std::string::npos) << out;
  EXPECT_TRUE(tapNames().empty());
  EXPECT_EQ(call("", {"acquire", "vm-ok"}).rfind("ok bg-", 0), 0U);
}

TEST_F(NetNs, BadInputGetsNamedErrorsAndTheServiceKeepsServing) {
  const std::string invalid = "error org.banger.Error.InvalidArgument ";
  EXPECT_EQ(call("", {"acquire", std::string(65, 'x')}).rfind(invalid, 0), 0U);
  EXPECT_EQ(call("", {"acquire", "../../etc"}).rfind(invalid, 0), 0U);
  EXPECT_EQ(call("", {"acquire", "vm one"}).rfind(invalid, 0), 0U);
  EXPECT_EQ(call("", {"release", ""}).rfind(invalid, 0), 0U);
  std::string out = call("", {"acquire-raw", "vm-x", "colour", "s", "red"});
  EXPECT_EQ(out.rfind(invalid, 0), 0U) << out;
  EXPECT_NE(out.find("'colour'"), std::string::npos) << out;
  out = call("", {"acquire-raw", "vm-x", "nat", "s", "yes"});
  EXPECT_EQ(out.rfind(invalid, 0), 0U) << out;
  EXPECT_NE(out.find("'nat'"), std::string::npos) << out;
  EXPECT_TRUE(tapNames().empty()) << "refused calls must not touch the host";
  EXPECT_EQ(call("", {"acquire", "vm-ok"}).rfind("ok bg-", 0), 0U);
}

TEST_F(NetNs, NatWithForwardingOffSaysHowToFixIt) {
  sysctlForward(0);
  std::string out = call("", {"acquire", "vm-1", "nat=true"});
  EXPECT_EQ(out.rfind("error org.banger.Error.Unavailable ", 0), 0U) << out;
  EXPECT_NE(out.find("sysctl"), std::string::npos) << out;
  EXPECT_TRUE(tapNames().empty());
  parseLease(call("", {"acquire", "vm-1"}));
  out = call("", {"setnat", "vm-1", "true"});
  EXPECT_EQ(out.rfind("error org.banger.Error.Unavailable ", 0), 0U) << out;
}

// Stands in for systemd-resolved on the test system bus and records what it is told.
struct FakeResolved {
  explicit FakeResolved(const BusHarness& harness) : bus(harness.connectSystem()) {
    object = sdbus::createObject(*bus, "/org/freedesktop/resolve1");
    const char* manager = "org.freedesktop.resolve1.Manager";
    using Server = sdbus::Struct<int32_t, std::vector<uint8_t>, uint16_t, std::string>;
    object->registerMethod("SetLinkDNSEx")
        .onInterface(manager)
        .implementedAs([this](int32_t index, const std::vector<Server>& servers) {
          std::lock_guard lock(mutex);
          log.push_back("dns " + std::to_string(index));
          for (const auto& s : servers) {
            const auto& a = s.get<1>();
            log.push_back("server " + std::to_string(s.get<0>()) + " " + std::to_string(a[0]) +
                          "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
                          std::to_string(a[3]) + ":" + std::to_string(s.get<2>()));
          }
        });
    object->registerMethod("SetLinkDomains")
        .onInterface(manager)
        .implementedAs(
            [this](int32_t index, const std::vector<sdbus::Struct<std::string, bool>>& domains) {
              std::lock_guard lock(mutex);
              for (const auto& d : domains) {
                log.push_back("domain " + std::to_string(index) + " " + d.get<0>() +
                              (d.get<1>() ? " route-only" : ""));
              }
            });
    object->registerMethod("RevertLink").onInterface(manager).implementedAs([this](int32_t index) {
      std::lock_guard lock(mutex);
      log.push_back("revert " + std::to_string(index));
    });
    object->finishRegistration();
    bus->requestName("org.freedesktop.resolve1");
    bus->enterEventLoopAsync();
  }
  ~FakeResolved() { bus->leaveEventLoop(); }
  std::vector<std::string> calls() {
    std::lock_guard lock(mutex);
    return log;
  }
  std::unique_ptr<sdbus::IConnection> bus;
  std::unique_ptr<sdbus::IObject> object;
  std::mutex mutex;
  std::vector<std::string> log;
};

TEST_F(NetNs, ResolverRoutingNeedsResolvedAndUsesItsApi) {
  std::string out = call("", {"resolver", "true"});
  EXPECT_EQ(out.rfind("error org.banger.Error.NotSupported ", 0), 0U) << out;
  EXPECT_NE(out.find("docs/dns-routing.md"), std::string::npos) << out;

  FakeResolved resolved(*harness);
  EXPECT_EQ(call(environment->members[2].name, {"resolver", "true"}), "ok");
  const std::string index = std::to_string(link("banger0")["ifindex"].get<int>());
  EXPECT_EQ(resolved.calls(), (std::vector<std::string>{"dns " + index, "server 2 127.0.0.1:42069",
                                                        "domain " + index + " vm route-only"}));
  auto bus = harness->connectSystem();
  auto net = sdbus::createProxy(*bus, "org.banger.Net", "/org/banger/Net");
  bool configured = net->getProperty("ResolverConfigured").onInterface("org.banger.Net1.Manager");
  EXPECT_TRUE(configured);
  EXPECT_EQ(call("", {"resolver", "false"}), "ok");
  EXPECT_EQ(resolved.calls().back(), "revert " + index);
  configured = net->getProperty("ResolverConfigured").onInterface("org.banger.Net1.Manager");
  EXPECT_FALSE(configured);
}

}  // namespace
