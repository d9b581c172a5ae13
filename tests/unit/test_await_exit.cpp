// Waiting for a VMM to end (vm stop, vm delete): awaitExit wakes when the process ends,
// reaps it when it is our child, and says so; a process that outlives the wait is left
// running and reported as such.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "launcher.h"

namespace banger::vm {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

pid_t childSleeping(unsigned seconds) {
  const pid_t pid = fork();
  if (pid == 0) {
    sleep(seconds);
    _exit(0);
  }
  return pid;
}

TEST(AwaitExit, AKilledChildIsSeenEndedAtOnceAndReaped) {
  const pid_t pid = childSleeping(30);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const auto start = Clock::now();
  EXPECT_TRUE(awaitExit(pid, 5s));
  EXPECT_LT(Clock::now() - start, 2s);  // woken by the exit, not by the 5 s limit
  errno = 0;
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);  // already reaped
  EXPECT_EQ(errno, ECHILD);
}

TEST(AwaitExit, AProcessStillRunningAtTheLimitIsReportedAndLeftAlone) {
  const pid_t pid = childSleeping(30);
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(awaitExit(pid, 50ms));
  EXPECT_TRUE(processAlive(pid));
  kill(pid, SIGKILL);
  EXPECT_TRUE(awaitExit(pid, 5s));
}

TEST(AwaitExit, AProcessAlreadyGoneIsEnded) {
  const pid_t pid = childSleeping(0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  EXPECT_TRUE(awaitExit(pid, 1s));
}

}  // namespace
}  // namespace banger::vm
