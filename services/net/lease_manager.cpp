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
    if (used.count(name) == 0 && !network_.link(name)) return name;
  }
}

std::optional<LinkInfo> LeaseManager::ownTap(const std::string& name, int index) {
  auto link = network_.link(name);
  if (!link || !link->isTap) return std::nullopt;
  // index 0: recorded before ifindexes were (schema version 1), when the name decided.
  if (link->index == index || link->madeByBanger || index == 0) return link;
  return std::nullopt;
}

void LeaseManager::restoreTap(Lease& lease) {
  if (const auto tap = ownTap(lease.tap, lease.ifindex)) {
    if (tap->index != lease.ifindex) {
      store_.setIfindex(lease.tap, tap->index);
      lease.ifindex = tap->index;
    }
    return;
  }
  if (const auto other = network_.link(lease.tap)) {
    fail(ErrorCode::Failed, "the TAP name " + lease.tap + " of lease '" + lease.vmId +
                                "' is taken by a link banger did not make (kind '" + other->kind +
                                "'); remove that link or release the lease");
  }
  ensureBridge();
  lease.ifindex = network_.createTap(lease.tap, lease.uid, config_.bridge);
  store_.setIfindex(lease.tap, lease.ifindex);
  log::warning("TAP " + lease.tap + " of lease " + lease.vmId + " was missing; recreated");
}

void LeaseManager::retirePooled(const PooledTap& pooled) {
  store_.retireFromPool(pooled);  // the record goes before the device
  deleteRetired({pooled.tap, pooled.ifindex, ""});
}

void LeaseManager::deleteRetired(const RetiredTap& retired) {
  try {
    if (const auto tap = ownTap(retired.tap, retired.ifindex)) {
      network_.deleteTap(retired.tap, tap->index);
    }
    store_.forgetRetired(retired.tap);
  } catch (const std::exception& e) {
    log::warning("could not delete TAP " + retired.tap + " (" + e.what() + "); its name" +
                 (retired.address.empty() ? "" : " and " + retired.address) +
                 " stay reserved until it is gone, and deleting it is retried");
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
  FirewallState state{config_.bridge, config_.gateway, network_.defaultRouteInterfaces(), {}};
  const std::vector<Lease> leases = store_.leases();
  for (const auto& lease : leases) {
    state.guests.push_back({lease.tap, lease.mac, lease.address, lease.uid, lease.nat});
  }
  firewall_.apply(state);
  firewallLoaded_ = true;
  pinLeasedAddresses(leases);
}

void LeaseManager::pinLeasedAddresses(const std::vector<Lease>& leases) {
  std::vector<HostNetwork::Neighbour> neighbours;
  for (const auto& lease : leases) neighbours.push_back({lease.address, lease.mac});
  network_.pinNeighbours(config_.bridge, neighbours);  // derived whole, as the tables are
}

void LeaseManager::ensureBridge() {
  const bool firstInThisRun = !firewallLoaded_;
  if (firstInThisRun) applyFirewall();  // the tables exist before the bridge does
  network_.ensureBridge(config_.bridge, config_.gateway, config_.subnet.prefix,
                        macFor(config_.gateway));  // never leased: unique on the bridge
  // The bridge may be new, or may just have been given its own MAC (one an older banger
  // made), which made the kernel forget every address pinned there.
  if (firstInThisRun) pinLeasedAddresses(store_.leases());
}

Lease LeaseManager::acquire(uid_t uid, const std::string& vmId, std::optional<bool> nat) {
  if (auto existing = store_.find(uid, vmId)) {
    restoreTap(*existing);
    if (nat) changeNat(*existing, *nat);
    return *existing;
  }
  if (store_.countFor(uid) >= config_.maxLeasesPerUid) {
    fail(ErrorCode::Busy, "uid " + std::to_string(uid) + " already holds " +
                              std::to_string(config_.maxLeasesPerUid) +
                              " leases, the limit (max_leases_per_uid in /etc/banger/net.toml)");
  }
  if (nat.value_or(false)) requireForwarding();
  ensureBridge();

  const Ipv4 address = freeAddress();
  Lease lease{uid, vmId, "", macFor(address), address.str(), nat.value_or(false), 0};
  bool fromPool = false;
  for (const auto& pooled : store_.pool(uid)) {
    const auto tap = ownTap(pooled.tap, pooled.ifindex);
    if (!tap) {
      store_.removeFromPool(pooled.tap);  // vanished, or its name is somebody else's now
    } else if (tap->attached) {
      log::info("pooled TAP " + pooled.tap + " is held open by a process: deleting it");
      retirePooled(pooled);  // its frames must not reach a new VM
    } else {
      lease.tap = pooled.tap;
      lease.ifindex = tap->index;
      fromPool = true;
      break;
    }
  }
  if (!fromPool) {
    lease.tap = freeTapName();
    lease.ifindex = network_.createTap(lease.tap, uid, config_.bridge);
  }
  try {
    store_.insert(lease, fromPool);
  } catch (...) {
    if (!fromPool) network_.deleteTap(lease.tap, lease.ifindex);  // never leak a TAP
    throw;
  }
  try {
    applyFirewall();  // the new TAP sends nothing until its binding is in
  } catch (...) {
    store_.releaseAndRetire(lease);  // no lease without its rules
    deleteRetired({lease.tap, lease.ifindex, lease.address});
    throw;
  }
  log::info("lease " + lease.tap + " " + lease.address + " for uid " + std::to_string(uid) +
            " vm_id " + vmId + (fromPool ? " (from the pool)" : ""));
  return lease;
}

void LeaseManager::release(uid_t uid, const std::string& vmId) {
  const Lease lease = lookup(uid, vmId);
  const auto tap = ownTap(lease.tap, lease.ifindex);
  const bool toPool = config_.poolSize > 0 && tap && !tap->attached;
  if (toPool) {
    store_.releaseToPool(
        {lease.uid, lease.vmId, lease.tap, lease.mac, lease.address, lease.nat, tap->index});
  } else {
    store_.releaseAndRetire(lease);  // the record goes first; the address waits for the device
    deleteRetired({lease.tap, lease.ifindex, lease.address});
  }
  applyFirewall();
  log::info("released " + lease.tap + " of uid " + std::to_string(uid) + " vm_id " + vmId +
            (tap && tap->attached ? " (still held open: deleted, not pooled)" : ""));
}

void LeaseManager::setNat(uid_t uid, const std::string& vmId, bool enabled) {
  Lease lease = lookup(uid, vmId);
  changeNat(lease, enabled);
}

void LeaseManager::changeNat(Lease& lease, bool enabled) {
  if (enabled) requireForwarding();
  if (lease.nat == enabled) return;
  store_.setNat(lease.uid, lease.vmId, enabled);
  lease.nat = enabled;
  applyFirewall();
}

void LeaseManager::refillPool(uid_t uid) {
  while (store_.pool(uid).size() < config_.poolSize) {
    ensureBridge();
    const std::string name = freeTapName();
    const int index = network_.createTap(name, uid, config_.bridge);
    try {
      store_.addToPool({name, uid, index});
    } catch (...) {
      network_.deleteTap(name, index);
      throw;
    }
  }
}

void LeaseManager::trimPools() {
  std::map<uid_t, size_t> kept;
  for (const auto& pooled : store_.pool()) {
    if (++kept[pooled.uid] > config_.poolSize) retirePooled(pooled);
  }
  for (const auto& retired : store_.retired()) deleteRetired(retired);
}

void LeaseManager::reconcile() {
  // Step by step: a link it cannot handle is logged and must never keep the service
  // (and so every user) from starting.
  const auto attempt = [](const std::string& what, const std::function<void()>& step) {
    try {
      step();
    } catch (const std::exception& e) {
      log::error(what + " failed: " + e.what());
    }
  };
  auto leases = store_.leases();
  const auto pool = store_.pool();
  if (!leases.empty() || !pool.empty() || network_.interfaceIndex(config_.bridge) > 0) {
    attempt("loading the firewall and creating the bridge " + config_.bridge,
            [&] { ensureBridge(); });
  }
  for (auto& lease : leases) {
    attempt("restoring the TAP of lease " + lease.vmId, [&] { restoreTap(lease); });
  }
  for (const auto& pooled : pool) {
    attempt("checking pooled TAP " + pooled.tap, [&] {
      const auto tap = ownTap(pooled.tap, pooled.ifindex);
      if (!tap) {
        store_.removeFromPool(pooled.tap);
      } else if (tap->attached) {
        retirePooled(pooled);
      } else if (tap->index != pooled.ifindex) {
        store_.setIfindex(pooled.tap, tap->index);
      }
    });
  }
  attempt("trimming the TAP pools", [&] { trimPools(); });
  attempt("looking for TAPs banger left behind", [&] {
    const auto known = store_.usedTaps();
    for (const auto& link : network_.linksWithPrefix(kTapPrefix)) {
      if (known.count(link.name) != 0) continue;
      if (!link.isTap || !link.madeByBanger) {
        log::warning("leaving " + link.name + " alone: banger did not make it (kind '" + link.kind +
                     "')");
        continue;
      }
      log::info("deleting TAP " + link.name + ": banger made it but no lease or pool has it");
      attempt("deleting " + link.name, [&] { network_.deleteTap(link.name, link.index); });
    }
  });
}

}  // namespace banger::net
