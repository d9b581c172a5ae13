#include "lease_store.h"

#include <chrono>

namespace banger::net {
namespace {
const std::vector<Migration> kMigrations = {
    {1,
     "CREATE TABLE lease ("
     "  uid INTEGER NOT NULL,"
     "  vm_id TEXT NOT NULL,"
     "  tap TEXT NOT NULL UNIQUE,"
     "  mac TEXT NOT NULL UNIQUE,"
     "  address TEXT NOT NULL UNIQUE,"
     "  nat INTEGER NOT NULL DEFAULT 0,"
     "  created_at INTEGER NOT NULL,"
     "  PRIMARY KEY (uid, vm_id));"
     "CREATE TABLE pool ("
     "  tap TEXT PRIMARY KEY,"
     "  uid INTEGER NOT NULL);"
     "CREATE TABLE setting ("
     "  key TEXT PRIMARY KEY,"
     "  value TEXT NOT NULL);"},
    // The ifindex each TAP had when banger made it (only that device is ever deleted),
    // and TAPs released or trimmed whose device is not yet confirmed gone.
    {2,
     "ALTER TABLE lease ADD COLUMN ifindex INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE pool ADD COLUMN ifindex INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE retired ("
     "  tap TEXT PRIMARY KEY,"
     "  ifindex INTEGER NOT NULL,"
     "  address TEXT UNIQUE);"},
};

Lease leaseFrom(Statement& s) {
  return Lease{static_cast<uid_t>(s.columnInt(0)),
               s.columnText(1),
               s.columnText(2),
               s.columnText(3),
               s.columnText(4),
               s.columnInt(5) != 0,
               static_cast<int>(s.columnInt(6))};
}

constexpr const char* kLeaseColumns =
    "SELECT uid, vm_id, tap, mac, address, nat, ifindex FROM lease";
}  // namespace

LeaseStore::LeaseStore(const std::filesystem::path& file) : db_(file, kMigrations) {}

std::optional<Lease> LeaseStore::find(uid_t uid, const std::string& vmId) {
  auto s = db_.prepare(std::string(kLeaseColumns) + " WHERE uid = ? AND vm_id = ?");
  s.bind(1, static_cast<int64_t>(uid)).bind(2, vmId);
  if (!s.step()) return std::nullopt;
  return leaseFrom(s);
}

std::vector<Lease> LeaseStore::leases(std::optional<uid_t> uid) {
  auto s = db_.prepare(std::string(kLeaseColumns) +
                       (uid ? " WHERE uid = ? ORDER BY vm_id" : " ORDER BY uid, vm_id"));
  if (uid) s.bind(1, static_cast<int64_t>(*uid));
  std::vector<Lease> out;
  while (s.step()) out.push_back(leaseFrom(s));
  return out;
}

size_t LeaseStore::countFor(uid_t uid) {
  auto s = db_.prepare("SELECT count(*) FROM lease WHERE uid = ?");
  s.bind(1, static_cast<int64_t>(uid));
  s.step();
  return static_cast<size_t>(s.columnInt(0));
}

std::set<std::string> LeaseStore::usedAddresses() {
  auto s = db_.prepare(
      "SELECT address FROM lease UNION SELECT address FROM retired WHERE address IS NOT NULL");
  std::set<std::string> out;
  while (s.step()) out.insert(s.columnText(0));
  return out;
}

std::set<std::string> LeaseStore::usedTaps() {
  auto s =
      db_.prepare("SELECT tap FROM lease UNION SELECT tap FROM pool UNION SELECT tap FROM retired");
  std::set<std::string> out;
  while (s.step()) out.insert(s.columnText(0));
  return out;
}

void LeaseStore::insert(const Lease& lease, bool fromPool) {
  Transaction tx(db_);
  if (fromPool) removeFromPool(lease.tap);
  auto s = db_.prepare(
      "INSERT INTO lease (uid, vm_id, tap, mac, address, nat, created_at, ifindex) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, static_cast<int64_t>(lease.uid))
      .bind(2, lease.vmId)
      .bind(3, lease.tap)
      .bind(4, lease.mac)
      .bind(5, lease.address)
      .bind(6, int64_t{lease.nat})
      .bind(7, static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()))
      .bind(8, int64_t{lease.ifindex});
  s.run();
  tx.commit();
}

void LeaseStore::setNat(uid_t uid, const std::string& vmId, bool nat) {
  auto s = db_.prepare("UPDATE lease SET nat = ? WHERE uid = ? AND vm_id = ?");
  s.bind(1, int64_t{nat}).bind(2, static_cast<int64_t>(uid)).bind(3, vmId);
  s.run();
}

void LeaseStore::setIfindex(const std::string& tap, int ifindex) {
  for (const char* table : {"lease", "pool"}) {
    auto s = db_.prepare(std::string("UPDATE ") + table + " SET ifindex = ? WHERE tap = ?");
    s.bind(1, int64_t{ifindex}).bind(2, tap);
    s.run();
  }
}

void LeaseStore::deleteLease(const Lease& lease) {
  auto s = db_.prepare("DELETE FROM lease WHERE uid = ? AND vm_id = ?");
  s.bind(1, static_cast<int64_t>(lease.uid)).bind(2, lease.vmId);
  s.run();
}

void LeaseStore::releaseToPool(const Lease& lease) {
  Transaction tx(db_);
  deleteLease(lease);
  addToPool({lease.tap, lease.uid, lease.ifindex});
  tx.commit();
}

void LeaseStore::releaseAndRetire(const Lease& lease) {
  Transaction tx(db_);
  deleteLease(lease);
  addRetired({lease.tap, lease.ifindex, lease.address});
  tx.commit();
}

std::vector<PooledTap> LeaseStore::pool(std::optional<uid_t> uid) {
  auto s = db_.prepare(uid ? "SELECT tap, uid, ifindex FROM pool WHERE uid = ? ORDER BY tap"
                           : "SELECT tap, uid, ifindex FROM pool ORDER BY uid, tap");
  if (uid) s.bind(1, static_cast<int64_t>(*uid));
  std::vector<PooledTap> out;
  while (s.step()) {
    out.push_back(
        {s.columnText(0), static_cast<uid_t>(s.columnInt(1)), static_cast<int>(s.columnInt(2))});
  }
  return out;
}

void LeaseStore::addToPool(const PooledTap& tap) {
  auto s = db_.prepare("INSERT INTO pool (tap, uid, ifindex) VALUES (?, ?, ?)");
  s.bind(1, tap.tap).bind(2, static_cast<int64_t>(tap.uid)).bind(3, int64_t{tap.ifindex});
  s.run();
}

void LeaseStore::retireFromPool(const PooledTap& tap) {
  Transaction tx(db_);
  removeFromPool(tap.tap);
  addRetired({tap.tap, tap.ifindex, ""});
  tx.commit();
}

void LeaseStore::addRetired(const RetiredTap& tap) {
  auto s = db_.prepare("INSERT OR REPLACE INTO retired (tap, ifindex, address) VALUES (?, ?, ?)");
  s.bind(1, tap.tap).bind(2, int64_t{tap.ifindex});
  if (tap.address.empty()) {
    s.bindNull(3);
  } else {
    s.bind(3, tap.address);
  }
  s.run();
}

std::vector<RetiredTap> LeaseStore::retired() {
  auto s = db_.prepare("SELECT tap, ifindex, coalesce(address, '') FROM retired ORDER BY tap");
  std::vector<RetiredTap> out;
  while (s.step()) {
    out.push_back({s.columnText(0), static_cast<int>(s.columnInt(1)), s.columnText(2)});
  }
  return out;
}

void LeaseStore::forgetRetired(const std::string& tap) {
  auto s = db_.prepare("DELETE FROM retired WHERE tap = ?");
  s.bind(1, tap);
  s.run();
}

void LeaseStore::removeFromPool(const std::string& tap) {
  auto s = db_.prepare("DELETE FROM pool WHERE tap = ?");
  s.bind(1, tap);
  s.run();
}

}  // namespace banger::net

namespace banger::net {

std::optional<std::string> LeaseStore::setting(const std::string& key) {
  auto s = db_.prepare("SELECT value FROM setting WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.columnText(0);
}

void LeaseStore::setSetting(const std::string& key, const std::string& value) {
  auto s = db_.prepare(
      "INSERT INTO setting (key, value) VALUES (?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  s.bind(1, key).bind(2, value);
  s.run();
}

}  // namespace banger::net
