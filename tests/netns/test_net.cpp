// org.banger.Net on the real kernel: each test runs banger-net (activated by a private
// system bus with the project's policy and the real polkitd) inside network namespaces
// it creates, and calls it as root and as other uids.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "net_fixture.h"
#include "unit_credentials.h"

using namespace banger;
using namespace banger::test;
using nlohmann::json;

namespace {

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
  ASSERT_TRUE(inetTable());
  EXPECT_EQ(setElements(*inetTable(), "nat_guests"), std::set<std::string>{lease.address});

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
  // TasksMax=16 in its unit: the event loop and the one worker of the runtime, no more.
  EXPECT_EQ(status.at("Threads"), "2");
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
  // Its guests' segments are acknowledged at once (ssh's handshake waits on no delayed ACK).
  const std::string route = run({"ip", "-n", ns, "route", "show", "172.16.0.0/24"}).out;
  EXPECT_EQ(route.rfind("172.16.0.0/24 dev banger0 proto kernel scope link src 172.16.0.1 ", 0), 0U)
      << route;
  EXPECT_NE(route.find(" quickack 1 "), std::string::npos) << route;
  EXPECT_EQ(std::count(route.begin(), route.end(), '\n'), 1) << "one route, replaced";
  EXPECT_EQ(call("", {"acquire", "vm-1"}), first);
}

TEST_F(NetNs, GroupMembersGetTheirOwnLeasesOutsidersAreDeniedEverything) {
  const auto& a = host.members[0];
  const auto& b = host.members[1];
  const LeaseLine lease = parseLease(call(a.name, {"acquire", "vm-a"}));
  expectOwnedBridgedTap(lease.tap, a.name);

  const std::string denied = "error org.freedesktop.DBus.Error.AccessDenied ";
  for (const auto& args : std::vector<std::vector<std::string>>{{"acquire", "vm-x"},
                                                                {"acquire", "vm-a"},
                                                                {"release", "vm-a"},
                                                                {"setnat", "vm-a", "true"},
                                                                {"resolver", "true"}}) {
    const std::string out = call(host.outsider.name, args);
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

TEST_F(NetNs, FiftyConcurrentAcquiresFromFiveUidsNeverCollide) {
  std::vector<std::future<std::pair<std::string, std::string>>> calls;
  for (int i = 0; i < 50; ++i) {
    const std::string user = host.members[static_cast<size_t>(i % 5)].name;
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
  const auto& a = host.members[0];
  const LeaseLine natted = parseLease(call("", {"acquire", "vm-1", "nat=true"}));
  const LeaseLine plain = parseLease(call("", {"acquire", "vm-2"}));
  const LeaseLine held = parseLease(call(a.name, {"acquire", "vm-a"}));
  holdTap(held.tap, a.name);  // its Firecracker keeps running across the restart

  killNetAndWait();
  ASSERT_FALSE(HasFatalFailure());

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
  ASSERT_TRUE(inetTable());
  EXPECT_EQ(setElements(*inetTable(), "nat_guests"), std::set<std::string>{natted.address});

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
  ASSERT_TRUE(inetTable()) << "the firewall stays while the bridge does";
  EXPECT_TRUE(setElements(*inetTable(), "nat_guests").empty()) << "no NAT lease left";
  EXPECT_TRUE(setElements(*inetTable(), "owners").empty()) << "no lease left";
}

// The bridge's neighbour entry for `address`: its lladdr and states, or null.
json neighbour(const std::string& ns, const std::string& address) {
  const auto shown = run({"ip", "-n", ns, "-j", "neigh", "show", "dev", "banger0", "to", address});
  const json entries = json::parse(shown.out.empty() ? "[]" : shown.out);
  return entries.empty() ? json() : entries[0];
}

bool permanent(const json& entry) {
  return entry.is_object() && entry.contains("state") &&
         std::find(entry["state"].begin(), entry["state"].end(), "PERMANENT") !=
             entry["state"].end();
}

// A released VM's last packets (an ssh connection still closing) leave the host resolving
// its address; the next VM given it must not wait for that resolution's next try.
TEST_F(NetNs, ALeasedAddressIsPinnedToItsMacEvenWhileTheHostStillResolvesIt) {
  const LeaseLine first = parseLease(call("", {"acquire", "vm-pin"}));
  // The pool's TAPs join the bridge meanwhile; its MAC is its own, so it never follows
  // theirs, which would make the kernel forget the pinned entry.
  ASSERT_TRUE(waitFor(
      [&] {
        int taps = 0;
        for (const auto& l : links()) taps += l["ifname"].get<std::string>().rfind("bg-", 0) == 0;
        return taps >= 3;
      },
      std::chrono::seconds(5)));
  EXPECT_EQ(link("banger0")["address"], "0e:62:ac:10:00:01");
  EXPECT_TRUE(permanent(neighbour(ns, first.address))) << neighbour(ns, first.address);
  ASSERT_EQ(call("", {"release", "vm-pin"}), "ok");
  EXPECT_FALSE(permanent(neighbour(ns, first.address))) << neighbour(ns, first.address);
  run({"ip", "netns", "exec", ns, "bash", "-c", "echo x > /dev/udp/" + first.address + "/9"});
  const json resolving = neighbour(ns, first.address);
  ASSERT_TRUE(resolving.is_object()) << "the host is resolving " << first.address;
  EXPECT_FALSE(permanent(resolving)) << resolving;

  const LeaseLine again = parseLease(call("", {"acquire", "vm-pin"}));
  ASSERT_EQ(again.address, first.address) << "the lowest free address again";
  const json pinned = neighbour(ns, again.address);
  EXPECT_TRUE(permanent(pinned)) << pinned;
  EXPECT_EQ(pinned.is_object() ? pinned.value("lladdr", "") : "", again.mac) << pinned;
  ASSERT_EQ(call("", {"release", "vm-pin"}), "ok");
  EXPECT_FALSE(permanent(neighbour(ns, again.address)));
}

// A bridge made by an older banger has a MAC of its ports'; Net gives it its own on its
// next start, which makes the kernel forget the pinned addresses of the VMs still running:
// they are pinned again at once.
TEST_F(NetNs, AfterARestartThatGivesTheBridgeItsOwnMacRunningVmsStayPinned) {
  const LeaseLine held = parseLease(call("", {"acquire", "vm-kept"}));
  ASSERT_TRUE(permanent(neighbour(ns, held.address)));
  killNetAndWait();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(run({"ip", "-n", ns, "link", "set", "banger0", "address", "02:00:00:00:00:09"}).ok());
  ASSERT_FALSE(permanent(neighbour(ns, held.address))) << "the kernel forgot it";

  EXPECT_EQ(call("", {"list"}).rfind("ok ", 0), 0U);  // activates it again
  EXPECT_EQ(link("banger0")["address"], "0e:62:ac:10:00:01");
  const json pinned = neighbour(ns, held.address);
  EXPECT_TRUE(permanent(pinned)) << pinned;
  EXPECT_EQ(pinned.is_object() ? pinned.value("lladdr", "") : "", held.mac) << pinned;
  EXPECT_EQ(call("", {"release", "vm-kept"}), "ok");
}

// Firecracker keeps its TAP open for as long as the VM runs; banger must never hand a
// TAP somebody holds to another VM, nor leave one on the bridge with its address reused.
TEST_F(NetNs, TapsHeldOpenAreDeletedAndNeverHandedToAnotherVm) {
  const auto& a = host.members[0];
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
  const auto& a = host.members[0];
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
    return call(host.outsider.name, {"flood", "2000", "20", "6"});
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // under way
  const auto& member = host.members[1];
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

  std::string out = call(host.outsider.name, {"acquire-keys", "vm-big", "1000000"});
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

TEST_F(NetNs, ResolverRoutingNeedsResolvedAndUsesItsApi) {
  std::string out = call("", {"resolver", "true"});
  EXPECT_EQ(out.rfind("error org.banger.Error.NotSupported ", 0), 0U) << out;
  EXPECT_NE(out.find("docs/dns-routing.md"), std::string::npos) << out;

  FakeResolved resolved(*harness);
  EXPECT_EQ(call(host.members[2].name, {"resolver", "true"}), "ok");
  const std::string index = std::to_string(link("banger0")["ifindex"].get<int>());
  EXPECT_EQ(resolved.calls(), (std::vector<std::string>{"dns " + index, "server 2 127.0.0.1:42",
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
