// The Net service's lease rules against a recording fake of the host network.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "banger/errors.h"
#include "harness.h"
#include "lease_manager.h"
#include "nameservers.h"
#include "net_config.h"
#include "net_fakes.h"
#include "net_manager.h"

using namespace banger;
using namespace banger::net;

namespace {

class Leases : public ::testing::Test {
 protected:
  Leases() : store(dir.path() / "net.db") {}
  LeaseManager manager(NetConfig config = {}) {
    return LeaseManager(config, store, network, firewall);
  }
  test::TempDir dir;
  LeaseStore store;
  FakeNetwork network;
  FakeFirewall firewall;
};

TEST_F(Leases, AcquireGivesAnAddressMacAndOwnedTapAndIsIdempotent) {
  auto m = manager();
  const Lease a = m.acquire(1000, "vm-a", std::nullopt);
  EXPECT_EQ(a.address, "172.16.0.2");  // .0 network, .1 gateway
  EXPECT_EQ(a.mac, "0e:62:ac:10:00:02");
  EXPECT_EQ(a.tap, "bg-0");
  EXPECT_EQ(network.owner("bg-0"), 1000U);
  EXPECT_EQ(network.bridge, "banger0");
  EXPECT_EQ(network.bridgeMac, "0e:62:ac:10:00:01");  // the gateway's, in the guests' scheme
  const Lease again = m.acquire(1000, "vm-a", std::nullopt);
  EXPECT_EQ(again.tap, a.tap);
  EXPECT_EQ(again.address, a.address);
  EXPECT_EQ(m.acquire(1001, "vm-a", std::nullopt).address, "172.16.0.3");  // same vm_id, other uid
}

TEST_F(Leases, EachLeasedAddressIsPinnedToItsMacUntilReleased) {
  auto m = manager();
  const Lease a = m.acquire(1000, "vm-a", std::nullopt);
  const Lease b = m.acquire(1001, "vm-b", std::nullopt);
  EXPECT_EQ(network.pinned,
            (std::map<std::string, std::string>{{a.address, a.mac}, {b.address, b.mac}}));
  m.release(1000, "vm-a");
  EXPECT_EQ(network.pinned, (std::map<std::string, std::string>{{b.address, b.mac}}));
  m.release(1001, "vm-b");
  EXPECT_TRUE(network.pinned.empty());
}

TEST_F(Leases, AddressesSkipGatewayNetworkAndBroadcastAndRunOut) {
  NetConfig config;
  config.subnet = *Ipv4Network::parse("10.9.0.0/29");  // hosts .1-.6
  config.gateway = *Ipv4::parse("10.9.0.3");
  auto m = manager(config);
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i)
    seen.insert(m.acquire(1000, "vm" + std::to_string(i), std::nullopt).address);
  EXPECT_EQ(seen,
            (std::set<std::string>{"10.9.0.1", "10.9.0.2", "10.9.0.4", "10.9.0.5", "10.9.0.6"}));
  EXPECT_EQ(codeOf([&] { m.acquire(1000, "vm9", std::nullopt); }), ErrorCode::Busy);
}

TEST_F(Leases, PerUidCapAnswersBusy) {
  NetConfig config;
  config.maxLeasesPerUid = 2;
  auto m = manager(config);
  m.acquire(1000, "a", std::nullopt);
  m.acquire(1000, "b", std::nullopt);
  EXPECT_EQ(codeOf([&] { m.acquire(1000, "c", std::nullopt); }), ErrorCode::Busy);
  EXPECT_NO_THROW(m.acquire(1001, "c", std::nullopt));
}

TEST_F(Leases, AnotherUidsLeaseIsNotFound) {
  auto m = manager();
  m.acquire(1000, "vm-a", std::nullopt);
  EXPECT_EQ(codeOf([&] { m.release(1001, "vm-a"); }), ErrorCode::NotFound);
  EXPECT_EQ(codeOf([&] { m.setNat(1001, "vm-a", true); }), ErrorCode::NotFound);
  EXPECT_TRUE(m.list(1001).empty());
  EXPECT_EQ(m.list(1000).size(), 1U);
  EXPECT_EQ(m.list(std::nullopt).size(), 1U);
}

TEST_F(Leases, PoolHandsOverWithoutCreatingAndTakesReleasedTapsBack) {
  auto m = manager();  // pool_size 2
  m.acquire(1000, "first", std::nullopt);
  m.refillPool(1000);
  EXPECT_EQ(store.pool(1000).size(), 2U);
  const int createsBefore = network.creates;
  const Lease second = m.acquire(1000, "second", std::nullopt);
  EXPECT_EQ(network.creates, createsBefore) << "a pooled TAP should have been handed over";
  EXPECT_EQ(network.owner(second.tap), 1000U);
  EXPECT_EQ(store.pool(1000).size(), 1U);
  m.release(1000, "second");  // back to the pool
  EXPECT_EQ(store.pool(1000).size(), 2U);
  EXPECT_TRUE(network.has(second.tap));
  const size_t linksBefore = network.links.size();
  m.release(1000, "first");  // past pool_size, kept until trimmed: no kernel wait now
  EXPECT_EQ(store.pool(1000).size(), 3U);
  EXPECT_EQ(network.links.size(), linksBefore);
  m.trimPools();
  EXPECT_EQ(store.pool(1000).size(), 2U);
  EXPECT_EQ(network.links.size(), 2U);
  for (const auto& p : store.pool(1000)) EXPECT_TRUE(network.has(p.tap));
}

TEST_F(Leases, WithoutAPoolReleasedTapsAreDeleted) {
  NetConfig config;
  config.poolSize = 0;
  auto m = manager(config);
  m.acquire(1000, "a", std::nullopt);
  m.refillPool(1000);
  m.release(1000, "a");
  EXPECT_TRUE(network.links.empty());
  EXPECT_TRUE(store.pool().empty());
}

TEST_F(Leases, PoolTapsAreNeverHandedToAnotherUid) {
  auto m = manager();
  m.acquire(1000, "a", std::nullopt);
  m.refillPool(1000);
  const Lease other = m.acquire(1001, "b", std::nullopt);
  EXPECT_EQ(network.owner(other.tap), 1001U);
}

TEST_F(Leases, NatFollowsTheDatabaseAndNeedsForwarding) {
  auto m = manager();
  m.acquire(1000, "a", true);
  const Lease b = m.acquire(1000, "b", std::nullopt);
  EXPECT_EQ(firewall.nat(), std::vector<std::string>{"172.16.0.2"});
  EXPECT_EQ(firewall.state.uplinks, std::vector<std::string>{"eth0"});
  m.setNat(1000, "b", true);
  EXPECT_EQ(firewall.nat(), (std::vector<std::string>{"172.16.0.2", b.address}));
  m.release(1000, "a");
  EXPECT_EQ(firewall.nat(), std::vector<std::string>{b.address});
  network.forwarding = false;
  EXPECT_EQ(codeOf([&] { m.setNat(1000, "b", true); }), ErrorCode::Unavailable);
  EXPECT_EQ(codeOf([&] { m.acquire(1000, "c", true); }), ErrorCode::Unavailable);
  EXPECT_NO_THROW(m.setNat(1000, "b", false));  // turning it off never needs forwarding
  EXPECT_TRUE(firewall.nat().empty());
}

TEST_F(Leases, ReconcileRestoresMissingTapsAndDeletesOnlyWhatBangerMade) {
  auto m = manager();
  m.acquire(1000, "a", true);
  m.acquire(1000, "b", std::nullopt);
  m.refillPool(1000);
  network.links.erase("bg-0");                             // lost behind our back
  network.links["bg-42"] = {99, 0};                        // banger's marker, in no record: a leak
  network.links["bg-43"] = {98, 0, "tun", true, false};    // somebody else's TAP
  network.links["bg-44"] = {97, 0, "veth", false, false};  // not even a TAP
  store.addToPool({"bg-9", 1000, 55});                     // pooled, but gone from the host
  m.reconcile();
  EXPECT_TRUE(network.has("bg-0"));
  EXPECT_EQ(network.owner("bg-0"), 1000U);
  EXPECT_EQ(store.find(1000, "a")->ifindex, network.links["bg-0"].index) << "new ifindex recorded";
  EXPECT_FALSE(network.has("bg-42"));
  EXPECT_TRUE(network.has("bg-43")) << "a bg-* TAP banger did not make is not its to delete";
  EXPECT_TRUE(network.has("bg-44"));
  for (const auto& p : store.pool()) EXPECT_TRUE(network.has(p.tap)) << p.tap;
  EXPECT_EQ(firewall.nat(), std::vector<std::string>{"172.16.0.2"});
  const auto before = network.links.size();
  m.reconcile();  // twice is the same as once
  EXPECT_EQ(network.links.size(), before);
}

TEST_F(Leases, ReconcileCarriesOnPastWhatItCannotDo) {
  auto m = manager();
  m.acquire(1000, "a", std::nullopt);
  m.acquire(1000, "b", std::nullopt);
  // a's TAP name is now somebody else's device; b's TAP is gone; deletes fail.
  network.links["bg-0"] = {77, 0, "veth", false, false};
  network.links.erase("bg-1");
  network.refuseDeletes = true;
  network.links["bg-50"] = {50, 0};  // banger's leak, which cannot be deleted now
  EXPECT_NO_THROW(m.reconcile());
  EXPECT_TRUE(network.has("bg-1")) << "b's TAP restored although a's could not be";
  EXPECT_EQ(network.links["bg-0"].kind, "veth") << "the foreign link is left alone";
  EXPECT_EQ(codeOf([&] { m.acquire(1000, "a", std::nullopt); }), ErrorCode::Failed);
}

TEST_F(Leases, AReleasedTapStillHeldOpenIsDeletedNotPooled) {
  auto m = manager();  // pool_size 2
  const Lease held = m.acquire(1000, "vm", std::nullopt);
  network.links[held.tap].attached = true;  // its Firecracker still runs
  m.release(1000, "vm");
  EXPECT_FALSE(network.has(held.tap));
  for (const auto& p : store.pool()) EXPECT_NE(p.tap, held.tap);
  EXPECT_TRUE(store.retired().empty());
}

TEST_F(Leases, AnAddressIsNotLeasedAgainWhileItsOldTapExists) {
  NetConfig config;
  config.poolSize = 0;
  auto m = manager(config);
  const Lease first = m.acquire(1000, "one", std::nullopt);
  network.refuseDeletes = true;
  EXPECT_NO_THROW(m.release(1000, "one")) << "the lease is gone for its owner either way";
  ASSERT_TRUE(network.has(first.tap));
  const Lease second = m.acquire(1001, "two", std::nullopt);
  EXPECT_NE(second.address, first.address);
  EXPECT_NE(second.tap, first.tap);
  network.refuseDeletes = false;
  m.trimPools();  // retries the retired TAP
  EXPECT_FALSE(network.has(first.tap));
  EXPECT_TRUE(store.retired().empty());
  EXPECT_EQ(m.acquire(1001, "three", std::nullopt).address, first.address);
}

TEST_F(Leases, APooledTapSomebodyHoldsOpenIsNeverHandedOver) {
  auto m = manager();
  m.acquire(1000, "a", std::nullopt);
  m.refillPool(1000);
  const auto pool = store.pool(1000);
  ASSERT_EQ(pool.size(), 2U);
  network.links[pool[0].tap].attached = true;
  const Lease next = m.acquire(1000, "b", std::nullopt);
  EXPECT_NE(next.tap, pool[0].tap);
  EXPECT_FALSE(network.has(pool[0].tap)) << "the held pooled TAP is deleted";
}

TEST_F(Leases, AFailedRecordDeletesTheNewTap) {
  auto m = manager();
  m.acquire(1000, "a", std::nullopt);
  // A second lease row with the same TAP name cannot be written; the TAP must not leak.
  store.database().exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON lease BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  const auto links = network.links.size();
  EXPECT_THROW(m.acquire(1000, "b", std::nullopt), Error);
  EXPECT_EQ(network.links.size(), links);
}

TEST_F(Leases, TheFirewallIsLoadedBeforeTheBridgeAndHoldsEveryLeasesBinding) {
  std::vector<std::string> events;
  network.events = firewall.events = &events;
  auto m = manager();
  const Lease a = m.acquire(1000, "a", std::nullopt);
  const Lease b = m.acquire(1001, "b", true);
  ASSERT_GE(events.size(), 2U);
  EXPECT_EQ(events[0], "firewall") << "guests were on the bridge before any rule";
  EXPECT_EQ(events[1], "bridge");
  ASSERT_EQ(firewall.state.guests.size(), 2U);
  EXPECT_EQ(firewall.state.gateway.str(), "172.16.0.1");
  const auto& g = firewall.state.guests[0];
  EXPECT_EQ(std::tie(g.tap, g.mac, g.address, g.uid, g.nat),
            std::tie(a.tap, a.mac, a.address, a.uid, a.nat));
  EXPECT_EQ(firewall.nat(), std::vector<std::string>{b.address});
  m.release(1000, "a");
  ASSERT_EQ(firewall.state.guests.size(), 1U) << "a released lease keeps no binding";
  EXPECT_EQ(firewall.state.guests[0].tap, b.tap);
}

TEST_F(Leases, ALeaseWhoseRulesCannotBeLoadedIsNotGiven) {
  auto m = manager();
  m.acquire(1000, "a", std::nullopt);
  const auto links = network.links.size();
  firewall.refuse = true;
  EXPECT_EQ(codeOf([&] { m.acquire(1000, "b", std::nullopt); }), ErrorCode::Failed);
  EXPECT_FALSE(store.find(1000, "b"));
  EXPECT_EQ(network.links.size(), links) << "its TAP was left behind";
  EXPECT_TRUE(store.retired().empty());
}

TEST(NetConfig, DefaultsAndErrorsNameTheKey) {
  const NetConfig d = parseNetConfig("", "net.toml");
  EXPECT_EQ(d.subnet.str(), "172.16.0.0/24");
  EXPECT_EQ(d.gateway.str(), "172.16.0.1");
  EXPECT_EQ(d.poolSize, 2U);
  EXPECT_EQ(d.maxLeasesPerUid, 64U);
  const NetConfig c = parseNetConfig("subnet = \"10.20.0.0/16\"\npool_size = 0\n", "net.toml");
  EXPECT_EQ(c.gateway.str(), "10.20.0.1");
  EXPECT_EQ(c.poolSize, 0U);
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"subnet = \"10.20.0.1/16\"", "subnet"},
           {"subnet = \"10.20.0.0/31\"", "subnet"},
           {"gateway = \"10.0.0.1\"", "gateway"},
           {"gateway = \"172.16.0.255\"", "gateway"},
           {"pool_size = 99", "pool_size"},
           {"max_leases_per_uid = 0", "max_leases_per_uid"},
           {"fallback_nameservers = [\"dns.example\"]", "fallback_nameservers"},
           {"bridge = \"br0\"", "bridge: unknown key"}}) {
    try {
      parseNetConfig(text, "net.toml");
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("net.toml: " + key), std::string::npos) << e.what();
    }
  }
}

TEST(Nameservers, LoopbackStubsAreSkipped) {
  EXPECT_EQ(parseResolvConf("# generated\nnameserver 127.0.0.53\noptions edns0\nsearch lan\n"),
            std::vector<std::string>{});
  EXPECT_EQ(parseResolvConf("nameserver 192.0.2.53\nnameserver ::1\nnameserver 192.0.2.53\n"
                            "nameserver 198.51.100.7 # second\nnameserverx 1.2.3.4\n"),
            (std::vector<std::string>{"192.0.2.53", "198.51.100.7"}));
}

TEST(VmId, ValidationNamesTheRule) {
  for (const std::string& good :
       std::vector<std::string>{"a", "vm-1", "0f3e9c2a", "web.prod_2", std::string(64, 'x')}) {
    EXPECT_NO_THROW(validateVmId(good)) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"", "-x", ".x", "a/b", "a b", "ä", "x\n",
                                                         std::string(65, 'x'), "../etc"}) {
    EXPECT_EQ(codeOf([&] { validateVmId(bad); }), ErrorCode::InvalidArgument) << bad;
  }
}

}  // namespace
