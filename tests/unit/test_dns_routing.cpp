// Who owns the host-wide .vm routing, and who gets its listener, against recording fakes.
#include <gtest/gtest.h>

#include "banger/errors.h"
#include "dns_routing.h"
#include "harness.h"
#include "net_config.h"
#include "net_fakes.h"

using namespace banger;
using namespace banger::net;

namespace {

class Routing : public ::testing::Test {
 protected:
  Routing()
      : store(dir.path() / "net.db"),
        leases(NetConfig{}, store, network, firewall),
        routing(store, leases, network, resolver) {}
  test::TempDir dir;
  LeaseStore store;
  FakeNetwork network;
  FakeFirewall firewall;
  FakeResolver resolver;
  LeaseManager leases;
  DnsRouting routing;
};

TEST_F(Routing, TheUserWhoRoutesOwnsItAndAloneGetsTheListener) {
  EXPECT_EQ(codeOf([&] { routing.openListener(1000); }), ErrorCode::Unavailable);
  routing.configure(1000, true);
  EXPECT_EQ(resolver.calls, std::vector<std::string>{"route 7 127.0.0.1:42 ~vm"});
  EXPECT_EQ(routing.owner(), 1000U);
  EXPECT_GE(firewall.applies, 1) << "the bridge came without its firewall";
  routing.openListener(1000);
  EXPECT_EQ(network.listenersOpened, std::vector<std::string>{"127.0.0.1:42"});

  EXPECT_EQ(codeOf([&] { routing.openListener(1001); }), ErrorCode::AccessDenied);
  EXPECT_EQ(codeOf([&] { routing.openListener(0); }), ErrorCode::AccessDenied)
      << "not even root's banger-dns takes the owner's listener";
  EXPECT_EQ(codeOf([&] { routing.configure(1001, true); }), ErrorCode::AlreadyExists);
  EXPECT_EQ(codeOf([&] { routing.configure(1001, false); }), ErrorCode::AccessDenied);
  EXPECT_EQ(network.listenersOpened.size(), 1U);
  EXPECT_EQ(resolver.calls.size(), 1U);
}

TEST_F(Routing, TheOwnerOrRootTurnsItOffThenAnotherUserMayHaveIt) {
  routing.configure(1000, true);
  routing.configure(0, false);
  EXPECT_EQ(resolver.calls.back(), "revert 7");
  EXPECT_FALSE(routing.owner());
  routing.configure(1001, true);
  EXPECT_EQ(routing.owner(), 1001U);
  routing.configure(1001, false);
  EXPECT_FALSE(routing.owner());
}

TEST(DnsListenSetting, OnlyAPrivilegedLoopbackPort) {
  EXPECT_EQ(parseNetConfig("", "net.toml").dnsListen.str(), "127.0.0.1:42");
  EXPECT_EQ(parseNetConfig("dns_listen = \"127.0.0.53:53\"", "net.toml").dnsListen.str(),
            "127.0.0.53:53");
  for (const char* bad : {"127.0.0.1:42069", "10.0.0.1:53", "127.0.0.1:0", "127.0.0.1", "x:53"}) {
    try {
      parseNetConfig(std::string("dns_listen = \"") + bad + "\"", "net.toml");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("net.toml: dns_listen"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
