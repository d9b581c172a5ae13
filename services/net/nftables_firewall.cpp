#include "nftables_firewall.h"

#include <nftables/libnftables.h>

#include <map>
#include <sstream>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger::net {
namespace {

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

// An interface name fit to quote in the ruleset (the kernel allows '"' in names).
bool plainName(const std::string& name) {
  return !name.empty() && name.find_first_of("\"\\") == std::string::npos;
}

std::string set(const std::string& name, const std::string& type,
                const std::vector<std::string>& elements) {
  std::string text = "  set " + name + " {\n    type " + type + "\n";
  if (!elements.empty()) {
    text += "    elements = { ";
    for (size_t i = 0; i < elements.size(); ++i) text += (i ? ", " : "") + elements[i];
    text += " }\n";
  }
  return text + "  }\n";
}

std::string inetTable(const FirewallState& state) {
  const std::string bridge = quoted(state.bridge);
  std::vector<std::string> nat, uplinks, owners;
  for (const auto& g : state.guests) {
    if (g.nat) nat.push_back(g.address);
    owners.push_back(g.address + " . " + std::to_string(g.uid));
  }
  for (const auto& u : state.uplinks) {
    if (plainName(u) && u != state.bridge) {
      uplinks.push_back(quoted(u));
    } else {
      log::warning("not using interface '" + u + "' for NAT: its name cannot be quoted");
    }
  }
  std::ostringstream t;
  t << "table inet banger {\n"
    << set("nat_guests", "ipv4_addr", nat) << set("uplinks", "ifname", uplinks)
    << set("owners", "ipv4_addr . uid", owners)
    // Guests reach the host only to answer what the host started, and to ping the gateway.
    << "  chain input {\n"
       "    type filter hook input priority filter; policy accept;\n"
       "    iifname "
    << bridge << " ct state established,related accept\n"
    << "    iifname " << bridge << " ip daddr " << state.gateway.str()
    << " icmp type echo-request accept\n"
       "    iifname "
    << bridge << " drop\n"
    << "  }\n"
    // Nothing is routed to or from guests but NAT guests' connections out of an uplink
    // and their answers. Frames that stay on the bridge pass here too where br_netfilter
    // is loaded (Docker loads it): table bridge banger decides for those.
    << "  chain forward {\n"
       "    type filter hook forward priority filter; policy accept;\n"
       "    iifname "
    << bridge << " oifname " << bridge << " accept\n"
    << "    iifname " << bridge << " ip saddr @nat_guests oifname @uplinks accept\n"
    << "    oifname " << bridge << " ct state established,related accept\n"
    << "    iifname " << bridge << " drop\n"
    << "    oifname " << bridge << " drop\n"
    << "  }\n"
    // On the host, only a guest's owner (and root) opens connections to it.
    << "  chain output {\n"
       "    type filter hook output priority filter; policy accept;\n"
       "    oifname "
    << bridge
    << " ct state new meta skuid != 0 ip daddr . meta skuid != @owners drop\n"
       "  }\n"
       "  chain postrouting {\n"
       "    type nat hook postrouting priority srcnat; policy accept;\n"
       "    ip saddr @nat_guests oifname @uplinks masquerade\n"
       "  }\n"
       "}\n";
  return t.str();
}

std::string bridgeTable(const FirewallState& state) {
  std::vector<std::string> macs, bindings;
  std::map<uid_t, std::vector<std::string>> tapsOf;
  for (const auto& g : state.guests) {
    macs.push_back(quoted(g.tap) + " . " + g.mac);
    bindings.push_back(quoted(g.tap) + " . " + g.mac + " . " + g.address);
    tapsOf[g.uid].push_back(quoted(g.tap));
  }
  std::ostringstream t;
  t << "table bridge banger {\n"
    << set("macs", "ifname . ether_addr", macs)
    << set("bindings", "ifname . ether_addr . ipv4_addr", bindings)
    // A TAP sends only its lease's MAC, and IPv4 and ARP only from its lease's address:
    // no taking another guest's address, no stealing its frames through the bridge's
    // forwarding table. A TAP with no lease (pooled) sends nothing at all.
    << "  chain prerouting {\n"
       "    type filter hook prerouting priority filter; policy accept;\n"
       "    iifname \""
    << kTapPrefix << "*\" jump guest_in\n"
    << "  }\n"
       "  chain guest_in {\n"
       "    iifname . ether saddr != @macs drop\n"
       "    iifname . arp saddr ether . arp saddr ip != @bindings drop\n"
       "    iifname . ether saddr . ip saddr != @bindings drop\n"
       "  }\n"
    // Between TAPs, frames pass only among one user's VMs.
    << "  chain forward {\n"
       "    type filter hook forward priority filter; policy accept;\n";
  if (!state.guests.empty()) {
    t << "    iifname vmap { ";
    bool first = true;
    for (const auto& g : state.guests) {
      t << (first ? "" : ", ") << quoted(g.tap) << " : goto uid_" << g.uid;
      first = false;
    }
    t << " }\n";
  }
  t << "  }\n";
  for (const auto& [uid, taps] : tapsOf) {
    t << "  chain uid_" << uid << " {\n    oifname { ";
    for (size_t i = 0; i < taps.size(); ++i) t << (i ? ", " : "") << taps[i];
    t << " } accept\n    drop\n  }\n";
  }
  t << "}\n";
  return t.str();
}

}  // namespace

NftablesFirewall::NftablesFirewall() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
  if (ctx_ == nullptr) fail(ErrorCode::Failed, "cannot create an nftables context");
  nft_ctx_buffer_output(ctx_);
  nft_ctx_buffer_error(ctx_);
}

NftablesFirewall::~NftablesFirewall() { nft_ctx_free(ctx_); }

std::string NftablesFirewall::ruleset(const FirewallState& state) {
  // "add" then "delete" makes the delete safe when a table does not exist yet; the whole
  // text is one transaction, so there is never a moment without rules.
  return "add table inet banger\ndelete table inet banger\n"
         "add table bridge banger\ndelete table bridge banger\n" +
         inetTable(state) + bridgeTable(state);
}

void NftablesFirewall::apply(const FirewallState& state) {
  const std::string text = ruleset(state);
  if (nft_run_cmd_from_buffer(ctx_, text.c_str()) != 0) {
    fail(ErrorCode::Failed, std::string("loading the nftables tables inet/bridge banger failed: ") +
                                nft_ctx_get_error_buffer(ctx_) +
                                " (is nf_tables available? see `journalctl -u banger-net`)");
  }
}

}  // namespace banger::net
