// The Net service's rules for leases, TAP pool and NAT, applied through HostNetwork and
// Firewall and recorded in LeaseStore. Not thread-safe: the service runs every call on
// one worker thread, which also serialises allocation.
//
// Only TAPs banger can prove it made are ever touched: a tun-kind TAP called bg-* that
// is recorded with its ifindex, or that carries banger's marker (a TAP left by a crash
// between its creation and its record). Anything else is logged and left alone.
#pragma once

#include <functional>
#include <optional>

#include "host_network.h"
#include "lease_store.h"
#include "net_config.h"

namespace banger::net {

class LeaseManager {
 public:
  LeaseManager(NetConfig config, LeaseStore& store, HostNetwork& network, Firewall& firewall);

  // Idempotent per (uid, vm_id); `nat` given = set it, absent = keep (new leases: off).
  Lease acquire(uid_t uid, const std::string& vmId, std::optional<bool> nat);
  // NotFound unless `uid` holds a lease for vm_id. An idle TAP goes back to the uid's
  // pool even past pool_size (trimPools deletes the surplus later, off the caller's
  // path); a TAP still held open (by the VM's Firecracker) is deleted instead, so it is
  // never handed to another VM, and its address stays reserved until it is gone.
  void release(uid_t uid, const std::string& vmId);
  void setNat(uid_t uid, const std::string& vmId, bool enabled);
  std::vector<Lease> list(std::optional<uid_t> uid) { return store_.leases(uid); }

  // Tops the uid's pool of idle TAPs up to pool_size.
  void refillPool(uid_t uid);
  // Deletes pooled TAPs beyond pool_size, for every uid, and retries retired TAPs.
  void trimPools();
  // Makes the host match the database: missing TAPs back, TAPs banger made but no
  // longer records deleted, retired TAPs deleted, the nftables table rebuilt. Logs and
  // carries on past anything it cannot handle; safe to run any number of times.
  void reconcile();

  // The bridge, with the firewall loaded first: guests are never on it without rules.
  void ensureBridge();
  const NetConfig& config() const { return config_; }
  static std::string macFor(Ipv4 address);

 private:
  Lease lookup(uid_t uid, const std::string& vmId);
  // Records and applies `enabled` for `lease` (updated in place); the one NAT path.
  void changeNat(Lease& lease, bool enabled);
  Ipv4 freeAddress();
  std::string freeTapName();
  // The link `name` when it is a TAP banger made: recorded as `index`, or marked.
  std::optional<LinkInfo> ownTap(const std::string& name, int index);
  // Gives an existing lease its TAP back when it went missing.
  void restoreTap(Lease& lease);
  void retirePooled(const PooledTap& pooled);
  // Deletes a retired TAP's device and forgets it; on failure it stays reserved.
  void deleteRetired(const RetiredTap& tap);
  void requireForwarding();
  // Loads the firewall for the leases in the database and pins their addresses.
  void applyFirewall();
  void pinLeasedAddresses(const std::vector<Lease>& leases);

  NetConfig config_;
  LeaseStore& store_;
  HostNetwork& network_;
  Firewall& firewall_;
  bool firewallLoaded_ = false;  // in this run of the service
};

}  // namespace banger::net
