// The Vm service's model and records: state names and rules, names, ids, CIDs, and every
// field of a record surviving the database.
#include <gtest/gtest.h>

#include <set>

#include "banger/errors.h"
#include "banger/vm_name.h"
#include "harness.h"
#include "machine.h"
#include "machine_store.h"

namespace banger::vm {
namespace {

MachineRecord sample(const std::string& name, uint32_t cid) {
  MachineRecord r;
  r.name = name;
  r.id = newMachineId();
  r.state = MachineState::Running;
  r.image = "debian-bookworm";
  r.kernel = "debian-cloud";
  r.vcpus = 2;
  r.memoryMib = 2048;
  r.diskBytes = 8ull << 30;
  r.nat = true;
  r.lease = MachineLease{"bg-3", "06:00:ac:10:00:05", "172.16.0.5",
                         24,     "172.16.0.1",        {"172.16.0.1", "9.9.9.9"}};
  r.cid = cid;
  r.pid = 4242;
  r.hostBootId = "host-boot";
  r.guestBootId = "guest-boot";
  r.createdAtUs = 1'700'000'000'000'000;
  r.startedAtUs = 1'700'000'000'500'000;
  r.lastError = "";
  return r;
}

TEST(MachineModel, StateNamesRoundTripAndUnknownOnesAreRefused) {
  for (MachineState s : {MachineState::Created, MachineState::Starting, MachineState::Running,
                         MachineState::Stopping, MachineState::Stopped, MachineState::Error})
    EXPECT_EQ(parseMachineState(machineStateName(s)), s);
  EXPECT_EQ(machineStateName(MachineState::Stopping), "stopping");
  EXPECT_FALSE(parseMachineState("paused"));
}

TEST(MachineModel, OnlyAMachineAtRestStartsOrChangesSize) {
  EXPECT_NO_THROW(requireStartable("a", MachineState::Stopped));
  EXPECT_NO_THROW(requireStartable("a", MachineState::Error));
  EXPECT_NO_THROW(requireStartable("a", MachineState::Created));
  try {
    requireStartable("box", MachineState::Running);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Busy);
    EXPECT_NE(std::string(e.what()).find("box is running"), std::string::npos) << e.what();
  }
  try {
    requireResizable("box", MachineState::Starting);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Busy);
    EXPECT_NE(std::string(e.what()).find("banger vm stop box"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(requireResizable("box", MachineState::Stopped));
}

TEST(MachineModel, GeneratedNamesAreVmNamesAndAvoidTakenOnes) {
  std::vector<std::string> taken;
  for (int i = 0; i < 700; ++i) {
    const std::string name = generateMachineName(taken);
    EXPECT_TRUE(isVmName(name)) << name;
    EXPECT_EQ(std::count(taken.begin(), taken.end(), name), 0) << name;
    taken.push_back(name);
  }
  EXPECT_EQ(std::count(taken[0].begin(), taken[0].end(), '-'), 1) << taken[0];
}

TEST(MachineModel, IdsAreSixteenHexDigitsAndDiffer) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = newMachineId();
    EXPECT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(MachineStoreTest, EveryFieldSurvivesAndAReopenedStoreHasIt) {
  test::TempDir dir;
  const MachineRecord record = sample("alpha", 3);
  {
    MachineStore store(dir.path() / "vm.db");
    store.insert(record);
  }
  MachineStore store(dir.path() / "vm.db");
  EXPECT_EQ(store.find("alpha"), record);
  MachineRecord noLease = sample("beta", 4);
  noLease.lease.reset();
  noLease.state = MachineState::Stopped;
  store.insert(noLease);
  EXPECT_EQ(store.find("beta"), noLease);
  ASSERT_EQ(store.all().size(), 2u);
  EXPECT_EQ(store.all()[0].name, "alpha");
}

TEST(MachineStoreTest, ATakenNameIsAlreadyExistsAndAMissingOneNotFound) {
  test::TempDir dir;
  MachineStore store(dir.path() / "vm.db");
  store.insert(sample("alpha", 3));
  try {
    store.insert(sample("alpha", 4));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::AlreadyExists);
  }
  try {
    store.update(sample("ghost", 5));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
  }
  EXPECT_FALSE(store.find("ghost"));
}

TEST(MachineStoreTest, UpdatesReplaceAndRemovalsForget) {
  test::TempDir dir;
  MachineStore store(dir.path() / "vm.db");
  MachineRecord record = sample("alpha", 3);
  store.insert(record);
  record.state = MachineState::Error;
  record.lastError = "ssh did not come up";
  record.lease.reset();
  store.update(record);
  EXPECT_EQ(store.find("alpha"), record);
  store.remove("alpha");
  EXPECT_FALSE(store.find("alpha"));
  EXPECT_TRUE(store.all().empty());
}

TEST(MachineStoreTest, FreeCidIsTheLowestUnusedFromThree) {
  test::TempDir dir;
  MachineStore store(dir.path() / "vm.db");
  EXPECT_EQ(store.freeCid(), 3u);
  store.insert(sample("a", 3));
  store.insert(sample("b", 4));
  store.insert(sample("c", 6));
  EXPECT_EQ(store.freeCid(), 5u);
  store.remove("a");
  EXPECT_EQ(store.freeCid(), 3u);
}

}  // namespace
}  // namespace banger::vm
