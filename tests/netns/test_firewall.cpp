// What guests reach and who reaches them, on the real kernel. Each guest is a namespace
// whose eth0 is relayed to its leased TAP by tap-guest, running as the lease's owner the
// way Firecracker would. An "outside" namespace is the host's uplink (default route) and
// has a route back to the guests, so only the firewall stands between them; "other" is
// a network the host reaches but that is not its uplink.
//
// Every expectation is one probe of one matrix; the mutation test removes each rule of
// the tables banger loads, one at a time, and requires some probe to notice.
#include <future>
#include <thread>

#include "net_fixture.h"

using namespace banger;
using namespace banger::test;
using nlohmann::json;

namespace {

const std::string kOutside = "192.0.2.2";  // TEST-NET-1, only inside these namespaces
const std::string kHostUplinkAddress = "192.0.2.1";
const std::string kOther = "198.51.100.2";

struct Guest {
  std::unique_ptr<NetworkNamespace> netns;
  LeaseLine lease;
  std::string tap() const { return lease.tap; }
  const std::string& name() const { return netns->name(); }
};

struct Probe {
  std::string what;
  bool expected;
  std::function<bool()> happens;
};

class Firewall : public NetNs {
 protected:
  void SetUp() override {
    NetNs::SetUp();
    if (IsSkipped()) return;
    peer_ = readFile(std::string(BANGER_SOURCE_DIR) + "/tests/netns/peer.py");
    sysctlForward(1);
    outside_ = std::make_unique<NetworkNamespace>("out");
    other_ = std::make_unique<NetworkNamespace>("oth");
    link(*outside_, "vout", "vin", kHostUplinkAddress, kOutside);
    link(*other_, "voth", "vo", "198.51.100.1", kOther);
    must({"ip", "-n", ns, "route", "add", "default", "via", kOutside});

    const auto& a = host.members[0];
    const auto& b = host.members[1];
    a1_ = startGuest(a, "a1", true);
    a2_ = startGuest(a, "a2", false);
    b1_ = startGuest(b, "b1", false);
    b2_ = startGuest(b, "b2", false);
    bridgeMac_ = NetNs::link("banger0")["address"];

    serve(outside_->name(), "8080");
    for (const std::string& n : {outside_->name(), a2_.name(), b1_.name()}) {
      helpers.push_back(spawnBackground(py(n, {"udplog", "9999", udpLog(n).string()}), {},
                                        harness->root() / ("udplog-" + n + ".log")));
    }
    // One-way probes between guests send to a MAC they know without asking ARP.
    must({"ip", "-n", a1_.name(), "neigh", "replace", b1_.lease.address, "lladdr", b1_.lease.mac,
          "dev", "eth0", "nud", "permanent"});
    must({"ip", "-n", b1_.name(), "neigh", "replace", a2_.lease.address, "lladdr", a2_.lease.mac,
          "dev", "eth0", "nud", "permanent"});
    serve(other_->name(), "8080");
    serve(ns, "8081");
    for (const Guest* g : {&a1_, &a2_, &b1_, &b2_}) serve(g->name(), "8080");
    // Up when root on the host reaches every end (root is never filtered).
    for (const auto& [netns, host] :
         std::vector<std::pair<std::string, std::string>>{{ns, kOutside},
                                                          {ns, kOther},
                                                          {ns, a1_.lease.address},
                                                          {ns, a2_.lease.address},
                                                          {ns, b1_.lease.address},
                                                          {ns, b2_.lease.address}}) {
      ASSERT_TRUE(waitFor([&, netns = netns, host = host] { return reaches(netns, host, "8080"); },
                          std::chrono::seconds(10)))
          << "no answer from " << host;
    }
  }

  std::vector<std::string> py(const std::string& netns, std::vector<std::string> args,
                              const std::string& user = "") {
    std::vector<std::string> argv{"ip", "netns", "exec", netns};
    if (!user.empty()) {
      argv.insert(argv.end(), {"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"});
    }
    argv.insert(argv.end(), {"/usr/bin/python3", "-c", peer_});
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  void must(const std::vector<std::string>& argv) {
    const auto r = run(argv);
    ASSERT_TRUE(r.ok()) << argv[0] << " " << argv[1] << " " << argv[2] << ": " << r.err;
  }
  // A veth between Net's namespace (hostEnd, hostAddress) and `peer` (peerEnd, its
  // address), with a route back to the guests.
  void link(const NetworkNamespace& peer, const std::string& hostEnd, const std::string& peerEnd,
            const std::string& hostAddress, const std::string& peerAddress) {
    must({"ip", "-n", ns, "link", "add", hostEnd, "type", "veth", "peer", "name", peerEnd, "netns",
          peer.name()});
    must({"ip", "-n", ns, "addr", "add", hostAddress + "/24", "dev", hostEnd});
    must({"ip", "-n", ns, "link", "set", hostEnd, "up"});
    must({"ip", "-n", peer.name(), "addr", "add", peerAddress + "/24", "dev", peerEnd});
    must({"ip", "-n", peer.name(), "link", "set", peerEnd, "up"});
    must({"ip", "-n", peer.name(), "route", "add", "172.16.0.0/24", "via", hostAddress});
  }
  Guest startGuest(const TestUser& owner, const std::string& vmId, bool nat) {
    Guest g;
    g.lease = parseLease(call(owner.name, {"acquire", vmId, nat ? "nat=true" : "nat=false"}));
    g.netns = std::make_unique<NetworkNamespace>(vmId);
    const auto log = harness->root() / ("relay-" + vmId + ".log");
    helpers.push_back(
        spawnBackground({"ip", "netns", "exec", ns, BANGER_TAP_GUEST_BIN, "relay", g.lease.tap,
                         g.name(), std::to_string(owner.uid), std::to_string(owner.gid)},
                        {}, log));
    EXPECT_TRUE(waitFor([&] { return readFile(log).find("relaying") != std::string::npos; },
                        std::chrono::seconds(5)))
        << readFile(log);
    const std::string& n = g.name();
    must({"ip", "-n", n, "link", "set", "eth0", "address", g.lease.mac});
    must({"ip", "-n", n, "addr", "add", g.lease.address + "/24", "dev", "eth0"});
    must({"ip", "-n", n, "link", "set", "eth0", "up"});
    must({"ip", "-n", n, "route", "add", "default", "via", g.lease.gateway});
    return g;
  }
  void serve(const std::string& netns, const std::string& port) {
    helpers.push_back(spawnBackground(py(netns, {"serve", port}), {},
                                      harness->root() / ("serve-" + netns + port + ".log")));
  }
  std::filesystem::path udpLog(const std::string& netns) const {
    return harness->root() / ("udp-received-" + netns);
  }
  // Whether one datagram from `from` arrives at `to` (one way: no answer is needed, so a
  // rule that only holds back one direction is seen).
  bool datagramArrives(const Guest& from, const Guest& to) {
    std::filesystem::remove(udpLog(to.name()));
    run(py(from.name(), {"udp", to.lease.address, "9999", from.lease.address}));
    return waitFor([&] { return std::filesystem::exists(udpLog(to.name())); },
                   std::chrono::milliseconds(300));
  }

  // What a TCP server at host:port answered to a connection from `netns` (as `user`);
  // nullopt when nothing answered within a second (twice, when `patient`).
  std::optional<std::string> answer(const std::string& netns, const std::string& host,
                                    const std::string& port, const std::string& user = "",
                                    bool patient = false) {
    const auto r = run(py(netns, {"connect", host, port, patient ? "2" : "1"}, user),
                       std::chrono::seconds(10));
    if (!r.ok()) return std::nullopt;
    return r.out.substr(0, r.out.find('\n'));
  }
  bool reaches(const std::string& netns, const std::string& host, const std::string& port,
               const std::string& user = "") {
    return answer(netns, host, port, user).has_value();
  }

  // The spoofing attempts of b1, the other user's guest, against a1.
  bool spoofedSourceGetsOut() {
    std::filesystem::remove(udpLog(outside_->name()));
    const std::string& b = b1_.name();
    run({"ip", "-n", b, "addr", "add", a1_.lease.address + "/32", "dev", "eth0"});
    // Its own ARP for the gateway would carry a1's address and be dropped: skip it.
    run({"ip", "-n", b, "neigh", "replace", b1_.lease.gateway, "lladdr", bridgeMac_, "dev", "eth0",
         "nud", "permanent"});
    run(py(b, {"udp", kOutside, "9999", a1_.lease.address}));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    run({"ip", "-n", b, "addr", "del", a1_.lease.address + "/32", "dev", "eth0"});
    run({"ip", "-n", b, "neigh", "del", b1_.lease.gateway, "dev", "eth0"});
    return std::filesystem::exists(udpLog(outside_->name()));
  }
  bool arpTakesAnotherGuestsAddress() {
    const auto pin = [&] {
      run({"ip", "-n", ns, "neigh", "replace", a1_.lease.address, "lladdr", a1_.lease.mac, "dev",
           "banger0", "nud", "reachable"});
    };
    pin();
    run(py(b1_.name(),
           {"arp", "eth0", b1_.lease.mac, b1_.lease.mac, a1_.lease.address, a1_.lease.address}));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto r =
        run({"ip", "-n", ns, "-j", "neigh", "show", a1_.lease.address, "dev", "banger0"});
    const json entries = json::parse(r.out.empty() ? "[]" : r.out);
    const bool taken = !entries.empty() && entries[0].value("lladdr", "") != a1_.lease.mac;
    pin();
    return taken;
  }
  bool framesWithAnotherGuestsMacAreLearnt() {
    run(py(b1_.name(),
           {"arp", "eth0", a1_.lease.mac, b1_.lease.mac, b1_.lease.address, b1_.lease.gateway}));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto r = run({"bridge", "-n", ns, "-j", "fdb", "show", "br", "banger0"});
    bool learnt = false;
    for (const auto& entry : json::parse(r.out)) {
      if (entry.value("mac", "") == a1_.lease.mac && entry.value("ifname", "") == b1_.tap()) {
        learnt = true;
      }
    }
    run({"bridge", "-n", ns, "fdb", "del", a1_.lease.mac, "dev", b1_.tap(), "master"});
    return learnt;
  }

  std::vector<Probe> probes() {
    const std::string a = host.members[0].name, b = host.members[1].name;
    const std::string gw = a1_.lease.gateway;
    return {
        {"a NAT guest gets out through the uplink, masqueraded", true,
         [=, this] {
           return answer(a1_.name(), kOutside, "8080", "", true) == kHostUplinkAddress;
         }},
        {"a guest without NAT does not get out", false,
         [=, this] { return reaches(a2_.name(), kOutside, "8080"); }},
        {"outside does not reach a NAT guest", false,
         [=, this] { return reaches(outside_->name(), a1_.lease.address, "8080"); }},
        {"outside does not reach a guest without NAT", false,
         [=, this] { return reaches(outside_->name(), a2_.lease.address, "8080"); }},
        {"a NAT guest does not reach a network that is not the uplink", false,
         [=, this] { return reaches(a1_.name(), kOther, "8080"); }},
        {"a guest does not reach the host's services on the gateway", false,
         [=, this] { return reaches(a2_.name(), gw, "8081"); }},
        {"a guest does not reach the host's other addresses", false,
         [=, this] { return reaches(a2_.name(), kHostUplinkAddress, "8081"); }},
        {"a guest pings the gateway", true,
         [=, this] {
           return run({"ip", "netns", "exec", a2_.name(), "ping", "-c", "1", "-W", "2", gw}).ok();
         }},
        {"the owner reaches its guest from the host", true,
         [=, this] { return answer(ns, a2_.lease.address, "8080", a, true).has_value(); }},
        {"another user does not reach it from the host", false,
         [=, this] { return reaches(ns, a2_.lease.address, "8080", b); }},
        {"root reaches it from the host", true,
         [=, this] { return answer(ns, a2_.lease.address, "8080", "", true).has_value(); }},
        {"one user's guests reach each other", true,
         [=, this] { return answer(a1_.name(), a2_.lease.address, "8080", "", true).has_value(); }},
        {"so do the other user's", true,
         [=, this] { return answer(b1_.name(), b2_.lease.address, "8080", "", true).has_value(); }},
        {"a guest's frames do not reach another user's guest", false,
         [this] { return datagramArrives(a1_, b1_); }},
        {"nor the other way round", false, [this] { return datagramArrives(b1_, a2_); }},
        {"the spoofing guest: another's source address gets out", false,
         [this] { return spoofedSourceGetsOut(); }},
        {"the spoofing guest: ARP takes another's address", false,
         [this] { return arpTakesAnotherGuestsAddress(); }},
        {"the spoofing guest: frames with another's MAC are learnt", false,
         [this] { return framesWithAnotherGuestsMacAreLearnt(); }},
    };
  }

  // Runs every probe; returns the ones whose outcome is not the expected one. The rest
  // run at once, and the spoofing ones after them, in turn: any traffic of the guest
  // they impersonate would let the bridge learn its MAC back meanwhile.
  std::vector<std::string> unexpected() {
    const auto all = probes();
    std::vector<std::future<bool>> outcomes(all.size());
    const auto spoofing = [](const Probe& p) { return p.what.rfind("the spoofing guest", 0) == 0; };
    for (size_t i = 0; i < all.size(); ++i) {
      if (!spoofing(all[i])) outcomes[i] = std::async(std::launch::async, all[i].happens);
    }
    std::vector<bool> happened(all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      if (!spoofing(all[i])) happened[i] = outcomes[i].get();
    }
    for (size_t i = 0; i < all.size(); ++i) {
      if (spoofing(all[i])) happened[i] = all[i].happens();
    }
    std::vector<std::string> wrong;
    for (size_t i = 0; i < all.size(); ++i) {
      if (happened[i] != all[i].expected) wrong.push_back(all[i].what);
    }
    return wrong;
  }

  std::string peer_;
  std::unique_ptr<NetworkNamespace> outside_, other_;
  Guest a1_, a2_, b1_, b2_;
  std::string bridgeMac_;
};

TEST_F(Firewall, EveryDirectionIsAsTheDocsSay) {
  for (const auto& what : unexpected()) ADD_FAILURE() << "not as documented: " << what;
  // NAT off: the guest is back to the host alone; on again: out again.
  EXPECT_EQ(call(host.members[0].name, {"setnat", "a1", "false"}), "ok");
  EXPECT_FALSE(reaches(a1_.name(), kOutside, "8080"));
  EXPECT_EQ(call(host.members[0].name, {"setnat", "a1", "true"}), "ok");
  EXPECT_EQ(answer(a1_.name(), kOutside, "8080", "", true), kHostUplinkAddress);
}

// Each rule of `table inet banger` and `table bridge banger`, removed on its own, must
// make some probe above come out otherwise: a rule no probe needs is a rule no test
// guards.
TEST_F(Firewall, EachRuleIsNeededBySomeProbe) {
  ASSERT_TRUE(unexpected().empty()) << "the intact rules must pass first";
  const auto list = [&](const std::string& family, bool json) {
    std::vector<std::string> argv{"ip", "netns", "exec", ns, "nft"};
    if (json) argv.insert(argv.end(), {"-j", "-a"});
    argv.insert(argv.end(), {"list", "table", family, "banger"});
    const auto r = run(argv);
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  };
  const std::string saved = "delete table inet banger\ndelete table bridge banger\n" +
                            list("inet", false) + list("bridge", false);
  writeFile(harness->root() / "saved.nft", saved);
  int rules = 0;
  for (const std::string family : {"inet", "bridge"}) {
    const json table = json::parse(list(family, true));  // kept: the loop walks into it
    for (const auto& item : table["nftables"]) {
      if (!item.contains("rule")) continue;
      const json& rule = item["rule"];
      const std::string chain = rule["chain"];
      const std::string handle = std::to_string(rule["handle"].get<int>());
      ++rules;
      ASSERT_TRUE(run({"ip", "netns", "exec", ns, "nft", "delete", "rule", family, "banger", chain,
                       "handle", handle})
                      .ok());
      EXPECT_FALSE(unexpected().empty()) << "no probe noticed the removal of " << family << " "
                                         << chain << ": " << rule["expr"].dump();
      ASSERT_TRUE(
          run({"ip", "netns", "exec", ns, "nft", "-f", (harness->root() / "saved.nft").string()})
              .ok());
    }
  }
  EXPECT_GE(rules, 18);
  EXPECT_TRUE(unexpected().empty()) << "restoring the rules did not restore the behaviour";
}

}  // namespace
