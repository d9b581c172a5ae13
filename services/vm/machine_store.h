// The Vm service's records (DESIGN §4): one SQLite database, $STATE/vm/vm.db. A record is
// written after the files it points at exist and removed before they are.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "banger/sqlite.h"
#include "machine.h"

namespace banger::vm {

class MachineStore {
 public:
  explicit MachineStore(const std::filesystem::path& file);

  // Inserts a new record; AlreadyExists naming the machine when the name is taken.
  void insert(const MachineRecord& record);
  // Replaces the record of that name; NotFound when there is none.
  void update(const MachineRecord& record);
  void remove(const std::string& name);
  std::optional<MachineRecord> find(const std::string& name);
  std::vector<MachineRecord> all();  // by name
  // The lowest guest CID (>= 3) no record holds.
  uint32_t freeCid();

 private:
  std::optional<MachineRecord> findLocked(const std::string& name);
  // Jobs on several workers and the loop thread share the one connection.
  std::mutex mutex_;
  Database db_;
};

}  // namespace banger::vm
