// A job queued behind a machine's boot (vm run's copy): it gets the running machine when
// the boot ends well, the boot's failure when not, and once canceled or over, a boot that
// ends later never makes it the machine's operation.
#include <gtest/gtest.h>

#include <thread>

#include "banger/errors.h"
#include "boot_wait.h"

namespace banger::vm {
namespace {

using namespace std::chrono_literals;

MachineRecord runningRecord() {
  MachineRecord record;
  record.name = "box";
  record.state = MachineState::Running;
  return record;
}

TEST(BootWait, TheWaiterGetsTheRecordOnceTheBootEndsWell) {
  BootWait wait;
  std::thread boot([&] {
    std::this_thread::sleep_for(50ms);
    wait.bootEnded(runningRecord);
  });
  EXPECT_EQ(wait.wait("box", "workspace", nullptr).name, "box");
  boot.join();
  EXPECT_TRUE(wait.finish()) << "it took the machine: the caller releases it";
}

TEST(BootWait, ABootThatFailedFailsTheWaiterNamingTheMachineAndWhy) {
  BootWait wait;
  wait.bootEnded([]() -> MachineRecord { fail(ErrorCode::Timeout, "ssh did not come up"); });
  try {
    wait.wait("box", "workspace", nullptr);
    ADD_FAILURE() << "a failed boot was waited through";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::Failed);
    EXPECT_STREQ(error.what(),
                 "box did not come up, so workspace did not run: ssh did not come up");
  }
  EXPECT_FALSE(wait.finish());
}

TEST(BootWait, ACanceledOrFinishedWaiterIsNeverGivenTheMachine) {
  BootWait canceled;
  std::atomic<bool> cancel = true;
  EXPECT_THROW(canceled.wait("box", "workspace", &cancel), Error);
  bool taken = false;
  canceled.bootEnded([&] {
    taken = true;
    return runningRecord();
  });
  EXPECT_FALSE(taken);
  EXPECT_FALSE(canceled.finish());

  BootWait over;  // the job failed before it waited (a repository it could not read)
  EXPECT_FALSE(over.finish());
  over.bootEnded([&] {
    taken = true;
    return runningRecord();
  });
  EXPECT_FALSE(taken);
}

// What goes through the agent starts once the guest answers, before the boot has ended;
// the machine becomes the job's only when the boot does.
TEST(BootWait, TheGuestIsReachableBeforeTheBootEnds) {
  BootWait wait;
  MachineRecord starting = runningRecord();
  starting.state = MachineState::Starting;
  std::thread agent([&] {
    std::this_thread::sleep_for(50ms);
    wait.guestUp(starting);
  });
  EXPECT_EQ(wait.waitForGuest("box", "workspace", nullptr).state, MachineState::Starting);
  agent.join();
  std::thread boot([&] {
    std::this_thread::sleep_for(50ms);
    wait.bootEnded(runningRecord);
  });
  EXPECT_EQ(wait.wait("box", "workspace", nullptr).state, MachineState::Running);
  boot.join();
  // A boot that ends before the agent was seen to answer: the guest is up all the same.
  BootWait quick;
  quick.bootEnded(runningRecord);
  EXPECT_EQ(quick.waitForGuest("box", "workspace", nullptr).state, MachineState::Running);
  EXPECT_TRUE(quick.finish());
}

}  // namespace
}  // namespace banger::vm
