// Leases and pooled TAPs in /var/lib/banger/net.db.
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
};

struct PooledTap {
  std::string tap;
  uid_t uid = 0;
};

class LeaseStore {
 public:
  explicit LeaseStore(const std::filesystem::path& file);

  std::optional<Lease> find(uid_t uid, const std::string& vmId);
  std::vector<Lease> leases(std::optional<uid_t> uid = std::nullopt);
  size_t countFor(uid_t uid);
  std::set<std::string> usedAddresses();
  std::set<std::string> usedTaps();  // leased or pooled

  // A new lease; when `fromPool`, that pooled TAP is taken in the same transaction.
  void insert(const Lease& lease, bool fromPool);
  void setNat(uid_t uid, const std::string& vmId, bool nat);
  // Removes the lease; when `toPool`, its TAP joins the pool in the same transaction.
  void remove(const Lease& lease, bool toPool);

  std::vector<PooledTap> pool(std::optional<uid_t> uid = std::nullopt);
  void addToPool(const PooledTap& tap);
  void removeFromPool(const std::string& tap);

  std::optional<std::string> setting(const std::string& key);
  void setSetting(const std::string& key, const std::string& value);
  Database& database() { return db_; }

 private:
  Database db_;
};

}  // namespace banger::net
