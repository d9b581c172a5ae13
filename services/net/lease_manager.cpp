#include "lease_manager.h"

#include <cstdio>
#include <map>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger::net {

LeaseManager::LeaseManager(NetConfig config, LeaseStore& store, HostNetwork& network,
                           Firewall& firewall)
    : config_(std::move(config)), store_(store), network_(network), firewall_(firewall) {}

std::string LeaseManager::macFor(Ipv4 address) {
  // Locally administered, unicast, and as unique as the address it is derived from.
  char mac[18];
  std::snprintf(mac, sizeof mac, "0e:62:%02x:%02x:%02x:%02x", (address.value >> 24) & 0xff,
                (address.value >> 16) & 0xff, (address.value >> 8) & 0xff, address.value & 0xff);
  return mac;
}

Lease LeaseManager::lookup(uid_t uid, const std::string& vmId) {
  auto lease = store_.find(uid, vmId);
  // Another uid's lease is indistinguishable from none: callers learn nothing about it.
  if (!lease) fail(ErrorCode::NotFound, "no lease for vm_id '" + vmId + "'");
  return *lease;
}

Ipv4 LeaseManager::freeAddress() {
  const auto used = store_.usedAddresses();
  const auto& subnet = config_.subnet;
  for (uint32_t i = 1; i <= subnet.hostCount(); ++i) {
    const Ipv4 candidate{subnet.base.value + i};
    if (candidate == config_.gateway) continue;
    if (used.count(candidate.str()) == 0) return candidate;
  }
  fail(ErrorCode::Busy, "no free address left in " + subnet.str() +
                            "; release leases or widen subnet in /etc/banger/net.toml");
}

std::string LeaseManager::freeTapName() {
  const auto used = store_.usedTaps();
  for (unsigned n = 0;; ++n) {
    std::string name = kTapPrefix + std::to_string(n);
    if (used.count(name) == 0 && !network_.linkExists(name)) return name;
  }
}

void LeaseManager::requireForwarding() {
  if (!network_.ipForwardingEnabled()) {
    fail(ErrorCode::Unavailable,
         "IP forwarding is off on this host (net.ipv4.ip_forward = 0), so NAT cannot work; "
         "banger installs /usr/lib/sysctl.d/50-banger.conf to turn it on: run "
         "`sudo sysctl --system` (or `sudo sysctl -w net.ipv4.ip_forward=1`)");
  }
}

void LeaseManager::applyFirewall() {
  std::vector<std::string> natAddresses;
  for (const auto& lease : store_.leases()) {
    if (lease.nat) natAddresses.push_back(lease.address);
  }
  firewall_.rebuild(config_.bridge, network_.defaultRouteInterface(), natAddresses);
}

Lease LeaseManager::acquire(uid_t uid, const std::string& vmId, std::optional<bool> nat) {
  if (auto existing = store_.find(uid, vmId)) {
    if (!network_.linkExists(existing->tap)) {
      network_.ensureBridge(config_.bridge, config_.gateway, config_.subnet.prefix);
      network_.createTap(existing->tap, uid, config_.bridge);
    }
    if (nat && *nat != existing->nat) {
      setNat(uid, vmId, *nat);
      existing->nat = *nat;
    }
    return *existing;
  }
  if (store_.countFor(uid) >= config_.maxLeasesPerUid) {
    fail(ErrorCode::Busy, "uid " + std::to_string(uid) + " already holds " +
                              std::to_string(config_.maxLeasesPerUid) +
                              " leases, the limit (max_leases_per_uid in /etc/banger/net.toml)");
  }
  if (nat.value_or(false)) requireForwarding();
  network_.ensureBridge(config_.bridge, config_.gateway, config_.subnet.prefix);

  const Ipv4 address = freeAddress();
  Lease lease{uid, vmId, "", macFor(address), address.str(), nat.value_or(false)};
  bool fromPool = false;
  for (const auto& pooled : store_.pool(uid)) {
    if (network_.linkExists(pooled.tap)) {
      lease.tap = pooled.tap;
      fromPool = true;
      break;
    }
    store_.removeFromPool(pooled.tap);  // vanished behind our back
  }
  if (!fromPool) {
    lease.tap = freeTapName();
    network_.createTap(lease.tap, uid, config_.bridge);
  }
  try {
    store_.insert(lease, fromPool);
  } catch (...) {
    if (!fromPool) network_.deleteTap(lease.tap);  // never leak a TAP without a record
    throw;
  }
  if (lease.nat) applyFirewall();
  log::info("lease " + lease.tap + " " + lease.address + " for uid " + std::to_string(uid) +
            " vm_id " + vmId + (fromPool ? " (from the pool)" : ""));
  return lease;
}

void LeaseManager::release(uid_t uid, const std::string& vmId) {
  const Lease lease = lookup(uid, vmId);
  const bool toPool = config_.poolSize > 0 && network_.linkExists(lease.tap);
  store_.remove(lease, toPool);  // the record goes before the device
  if (!toPool) network_.deleteTap(lease.tap);
  if (lease.nat) applyFirewall();
  log::info("released " + lease.tap + " of uid " + std::to_string(uid) + " vm_id " + vmId);
}

void LeaseManager::setNat(uid_t uid, const std::string& vmId, bool enabled) {
  const Lease lease = lookup(uid, vmId);
  if (enabled) requireForwarding();
  if (lease.nat == enabled) return;
  store_.setNat(uid, vmId, enabled);
  applyFirewall();
}

void LeaseManager::refillPool(uid_t uid) {
  while (store_.pool(uid).size() < config_.poolSize) {
    network_.ensureBridge(config_.bridge, config_.gateway, config_.subnet.prefix);
    const std::string name = freeTapName();
    network_.createTap(name, uid, config_.bridge);
    try {
      store_.addToPool({name, uid});
    } catch (...) {
      network_.deleteTap(name);
      throw;
    }
  }
}

void LeaseManager::trimPools() {
  std::map<uid_t, size_t> kept;
  for (const auto& pooled : store_.pool()) {
    if (++kept[pooled.uid] <= config_.poolSize) continue;
    store_.removeFromPool(pooled.tap);  // the record goes before the device
    network_.deleteTap(pooled.tap);
  }
}

void LeaseManager::reconcile() {
  const auto leases = store_.leases();
  const auto pool = store_.pool();
  if (!leases.empty() || !pool.empty()) {
    network_.ensureBridge(config_.bridge, config_.gateway, config_.subnet.prefix);
  }
  for (const auto& lease : leases) {
    if (!network_.linkExists(lease.tap)) {
      log::warning("TAP " + lease.tap + " of lease " + lease.vmId + " was missing; recreated");
      network_.createTap(lease.tap, lease.uid, config_.bridge);
    }
  }
  for (const auto& pooled : pool) {
    if (!network_.linkExists(pooled.tap)) store_.removeFromPool(pooled.tap);
  }
  trimPools();
  const auto known = store_.usedTaps();
  for (const auto& link : network_.linksWithPrefix(kTapPrefix)) {
    if (known.count(link) == 0) {
      log::info("deleting stray TAP " + link + " (not in the lease database)");
      network_.deleteTap(link);
    }
  }
  applyFirewall();
}

}  // namespace banger::net
