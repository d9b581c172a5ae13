// The Net service's rules for leases, TAP pool and NAT, applied through HostNetwork and
// Firewall and recorded in LeaseStore. Not thread-safe: the service runs every call on
// one worker thread, which also serialises allocation.
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
  // NotFound unless `uid` holds a lease for vm_id. The TAP goes back to the uid's pool
  // even past pool_size: deleting a TAP waits for the kernel (an RCU grace period), so
  // the surplus is trimmed later, off the caller's path (trimPools).
  void release(uid_t uid, const std::string& vmId);
  void setNat(uid_t uid, const std::string& vmId, bool enabled);
  std::vector<Lease> list(std::optional<uid_t> uid) { return store_.leases(uid); }

  // Tops the uid's pool of idle TAPs up to pool_size.
  void refillPool(uid_t uid);
  // Deletes pooled TAPs beyond pool_size, for every uid.
  void trimPools();
  // Makes the host match the database: missing TAPs back, stray bg-* TAPs deleted, the
  // nftables table rebuilt. Safe to run any number of times.
  void reconcile();

  const NetConfig& config() const { return config_; }
  static std::string macFor(Ipv4 address);

 private:
  Lease lookup(uid_t uid, const std::string& vmId);
  Ipv4 freeAddress();
  std::string freeTapName();
  void requireForwarding();
  void applyFirewall();

  NetConfig config_;
  LeaseStore& store_;
  HostNetwork& network_;
  Firewall& firewall_;
};

inline constexpr const char* kTapPrefix = "bg-";

}  // namespace banger::net
