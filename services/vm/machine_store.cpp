#include "machine_store.h"

#include <sstream>

#include "banger/errors.h"

namespace banger::vm {
namespace {

const std::vector<Migration> kMigrations = {
    {1,
     "CREATE TABLE machine ("
     "  name TEXT PRIMARY KEY,"
     "  id TEXT NOT NULL UNIQUE,"
     "  state TEXT NOT NULL,"
     "  image TEXT NOT NULL,"
     "  kernel TEXT NOT NULL,"
     "  vcpus INTEGER NOT NULL,"
     "  memory_mib INTEGER NOT NULL,"
     "  disk_bytes INTEGER NOT NULL,"
     "  nat INTEGER NOT NULL,"
     "  tap TEXT, mac TEXT, address TEXT, prefix_len INTEGER, gateway TEXT, nameservers TEXT,"
     "  cid INTEGER NOT NULL UNIQUE,"
     "  pid INTEGER NOT NULL,"
     "  host_boot_id TEXT NOT NULL,"
     "  guest_boot_id TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  started_at INTEGER NOT NULL,"
     "  last_error TEXT NOT NULL);"},
};

constexpr const char* kColumns =
    "name, id, state, image, kernel, vcpus, memory_mib, disk_bytes, nat, tap, mac, address, "
    "prefix_len, gateway, nameservers, cid, pid, host_boot_id, guest_boot_id, created_at, "
    "started_at, last_error";

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void bindRecord(Statement& s, const MachineRecord& r) {
  s.bind(1, r.name).bind(2, r.id).bind(3, std::string(machineStateName(r.state)));
  s.bind(4, r.image).bind(5, r.kernel).bind(6, int64_t{r.vcpus}).bind(7, int64_t{r.memoryMib});
  s.bind(8, static_cast<int64_t>(r.diskBytes)).bind(9, int64_t{r.nat});
  if (r.lease) {
    s.bind(10, r.lease->tap).bind(11, r.lease->mac).bind(12, r.lease->address);
    s.bind(13, int64_t{r.lease->prefixLen}).bind(14, r.lease->gateway);
    s.bind(15, joined(r.lease->nameservers));
  } else {
    for (int column = 10; column <= 15; ++column) s.bindNull(column);
  }
  s.bind(16, int64_t{r.cid}).bind(17, int64_t{r.pid}).bind(18, r.hostBootId);
  s.bind(19, r.guestBootId).bind(20, static_cast<int64_t>(r.createdAtUs));
  s.bind(21, static_cast<int64_t>(r.startedAtUs)).bind(22, r.lastError);
}

MachineRecord recordFrom(Statement& s) {
  MachineRecord r;
  r.name = s.columnText(0);
  r.id = s.columnText(1);
  // A state this version does not know is shown as an error rather than refused.
  r.state = parseMachineState(s.columnText(2)).value_or(MachineState::Error);
  r.image = s.columnText(3);
  r.kernel = s.columnText(4);
  r.vcpus = static_cast<uint32_t>(s.columnInt(5));
  r.memoryMib = static_cast<uint32_t>(s.columnInt(6));
  r.diskBytes = static_cast<uint64_t>(s.columnInt(7));
  r.nat = s.columnInt(8) != 0;
  if (!s.columnIsNull(9))
    r.lease = MachineLease{s.columnText(9),  s.columnText(10),
                           s.columnText(11), static_cast<uint32_t>(s.columnInt(12)),
                           s.columnText(13), split(s.columnText(14))};
  r.cid = static_cast<uint32_t>(s.columnInt(15));
  r.pid = static_cast<pid_t>(s.columnInt(16));
  r.hostBootId = s.columnText(17);
  r.guestBootId = s.columnText(18);
  r.createdAtUs = static_cast<uint64_t>(s.columnInt(19));
  r.startedAtUs = static_cast<uint64_t>(s.columnInt(20));
  r.lastError = s.columnText(21);
  return r;
}

}  // namespace

MachineStore::MachineStore(const std::filesystem::path& file) : db_(file, kMigrations) {}

void MachineStore::insert(const MachineRecord& record) {
  std::lock_guard lock(mutex_);
  if (findLocked(record.name)) fail(ErrorCode::AlreadyExists, "machine " + record.name + " exists");
  auto s = db_.prepare(std::string("INSERT INTO machine (") + kColumns +
                       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  bindRecord(s, record);
  s.run();
}

void MachineStore::update(const MachineRecord& record) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (!findLocked(record.name))
    fail(ErrorCode::NotFound, "machine " + record.name + " has no record");
  auto s = db_.prepare(std::string("REPLACE INTO machine (") + kColumns +
                       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  bindRecord(s, record);
  s.run();
  transaction.commit();
}

void MachineStore::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare("DELETE FROM machine WHERE name = ?");
  s.bind(1, name);
  s.run();
}

std::optional<MachineRecord> MachineStore::find(const std::string& name) {
  std::lock_guard lock(mutex_);
  return findLocked(name);
}

std::optional<MachineRecord> MachineStore::findLocked(const std::string& name) {
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM machine WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return recordFrom(s);
}

std::vector<MachineRecord> MachineStore::all() {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM machine ORDER BY name");
  std::vector<MachineRecord> out;
  while (s.step()) out.push_back(recordFrom(s));
  return out;
}

uint32_t MachineStore::freeCid() {
  std::lock_guard lock(mutex_);
  // CIDs 0-2 are the hypervisor's, the local loopback and the host's.
  auto s = db_.prepare(
      "SELECT min(c) FROM (SELECT 3 AS c UNION SELECT cid + 1 FROM machine) "
      "WHERE c NOT IN (SELECT cid FROM machine)");
  s.step();
  return static_cast<uint32_t>(s.columnInt(0));
}

}  // namespace banger::vm
