// Leases, pooled TAPs and retired TAPs in /var/lib/banger/net.db.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "banger/sqlite.h"

namespace banger::net {

struct Lease {
  uid_t uid = 0;
  std::string vmId;
  std::string tap;
  std::string mac;
  std::string address;
  bool nat = false;
  int ifindex = 0;  // of the TAP when it was made; 0 = unknown (recorded before version 2)
};

struct PooledTap {
  std::string tap;
  uid_t uid = 0;
  int ifindex = 0;
};

// A TAP whose lease or pool place is gone but whose device may still exist: its name and
// address stay reserved until the device is confirmed deleted.
struct RetiredTap {
  std::string tap;
  int ifindex = 0;
  std::string address;  // empty for a pooled TAP (it had none)
};

class LeaseStore {
 public:
  explicit LeaseStore(const std::filesystem::path& file);

  std::optional<Lease> find(uid_t uid, const std::string& vmId);
  std::vector<Lease> leases(std::optional<uid_t> uid = std::nullopt);
  size_t countFor(uid_t uid);
  std::set<std::string> usedAddresses();  // leased or retired
  std::set<std::string> usedTaps();       // leased, pooled or retired

  // A new lease; when `fromPool`, that pooled TAP is taken in the same transaction.
  void insert(const Lease& lease, bool fromPool);
  void setNat(uid_t uid, const std::string& vmId, bool nat);
  void setIfindex(const std::string& tap, int ifindex);  // of a lease or pooled TAP
  // Removes the lease; its TAP joins the pool, or is retired, in the same transaction.
  void releaseToPool(const Lease& lease);
  void releaseAndRetire(const Lease& lease);

  std::vector<PooledTap> pool(std::optional<uid_t> uid = std::nullopt);
  void addToPool(const PooledTap& tap);
  void removeFromPool(const std::string& tap);
  void retireFromPool(const PooledTap& tap);

  std::vector<RetiredTap> retired();
  void forgetRetired(const std::string& tap);

  std::optional<std::string> setting(const std::string& key);
  void setSetting(const std::string& key, const std::string& value);
  Database& database() { return db_; }

 private:
  void deleteLease(const Lease& lease);
  void addRetired(const RetiredTap& tap);
  Database db_;
};

}  // namespace banger::net
