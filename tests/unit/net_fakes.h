// Recording fakes of the Net service's host seams, for its unit tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "banger/errors.h"
#include "host_network.h"
#include "resolver.h"

namespace banger::net {

// The error code `f` fails with; a call that succeeds fails the test.
inline ErrorCode codeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return ErrorCode::Failed;
}

struct FakeNetwork final : HostNetwork {
  struct Link {
    int index = 0;
    uid_t owner = 0;
    std::string kind = "tun";
    bool tap = true;
    bool marked = true;  // carries banger's ifalias
    bool attached = false;
  };
  std::string bridge;
  std::map<std::string, Link> links;
  int nextIndex = 10;
  std::vector<std::string> defaultRoutes = {"eth0"};
  std::vector<std::string>* events = nullptr;  // shared with the firewall: what came first
  bool forwarding = true;
  bool refuseDeletes = false;
  int creates = 0;

  std::string bridgeMac;
  void ensureBridge(const std::string& b, Ipv4, unsigned, const std::string& mac) override {
    bridge = b;
    bridgeMac = mac;
    if (events) events->push_back("bridge");
  }
  int createTap(const std::string& name, uid_t owner, const std::string&) override {
    EXPECT_FALSE(bridge.empty()) << "TAP created before the bridge";
    if (links.count(name)) fail(ErrorCode::Failed, "creating TAP " + name + ": exists");
    links[name] = Link{nextIndex++, owner};
    ++creates;
    return links[name].index;
  }
  bool deleteTap(const std::string& name, int index) override {
    if (refuseDeletes) fail(ErrorCode::Failed, "deleting TAP " + name + ": kernel says no");
    auto it = links.find(name);
    if (it == links.end() || it->second.index != index || !it->second.tap) return false;
    links.erase(it);
    return true;
  }
  std::optional<LinkInfo> link(const std::string& name) override {
    auto it = links.find(name);
    if (it == links.end()) return std::nullopt;
    const Link& l = it->second;
    return LinkInfo{name, l.index, l.kind, l.tap, l.marked, l.attached};
  }
  std::vector<LinkInfo> linksWithPrefix(const std::string& prefix) override {
    std::vector<LinkInfo> out;
    for (const auto& [name, l] : links) {
      if (name.rfind(prefix, 0) == 0) out.push_back(*link(name));
    }
    return out;
  }
  int interfaceIndex(const std::string& name) override {
    return name == bridge ? 7 : links.count(name) ? links[name].index : 0;
  }
  std::vector<std::string> defaultRouteInterfaces() override { return defaultRoutes; }
  bool ipForwardingEnabled() override { return forwarding; }
  std::map<std::string, std::string> pinned;  // address -> MAC
  void pinNeighbours(const std::string& b, const std::vector<Neighbour>& guests) override {
    if (b != bridge) return;  // no bridge yet
    pinned.clear();
    for (const auto& g : guests) pinned[g.address] = g.mac;
  }
  std::vector<std::string> listenersOpened;
  Listener openDnsListener(const Ipv4Endpoint& at) override {
    listenersOpened.push_back(at.str());
    return {};
  }
  uid_t owner(const std::string& name) { return links.at(name).owner; }
  bool has(const std::string& name) { return links.count(name) != 0; }
};

struct FakeFirewall final : Firewall {
  FirewallState state;
  int applies = 0;
  bool refuse = false;
  std::vector<std::string>* events = nullptr;
  void apply(const FirewallState& s) override {
    if (refuse) fail(ErrorCode::Failed, "loading the nftables tables failed: no nf_tables");
    state = s;
    ++applies;
    if (events) events->push_back("firewall");
  }
  std::vector<std::string> nat() const {
    std::vector<std::string> out;
    for (const auto& g : state.guests) {
      if (g.nat) out.push_back(g.address);
    }
    return out;
  }
};

struct FakeResolver final : Resolver {
  std::vector<std::string> calls;
  void route(int index, const std::string& address, uint16_t port,
             const std::string& domain) override {
    calls.push_back("route " + std::to_string(index) + " " + address + ":" + std::to_string(port) +
                    " ~" + domain);
  }
  void revert(int index) override { calls.push_back("revert " + std::to_string(index)); }
};

}  // namespace banger::net
