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

// A VMM readopted after a restart of the service is no child of ours: it is gone only
// once its own parent has reaped it.
TEST(AwaitExit, AnotherParentsChildIsEndedOnlyOnceThatParentReapedIt) {
  int pids[2];
  ASSERT_EQ(pipe(pids), 0);
  const pid_t parent = fork();
  if (parent == 0) {
    const pid_t grandchild = childSleeping(30);
    [[maybe_unused]] ssize_t n = write(pids[1], &grandchild, sizeof grandchild);
    kill(grandchild, SIGKILL);
    usleep(200 * 1000);  // a zombie meanwhile
    waitpid(grandchild, nullptr, 0);
    _exit(0);
  }
  pid_t grandchild = 0;
  ASSERT_EQ(read(pids[0], &grandchild, sizeof grandchild), static_cast<ssize_t>(sizeof grandchild));
  EXPECT_TRUE(awaitExit(grandchild, 5s));
  EXPECT_NE(kill(grandchild, 0), 0);
  close(pids[0]);
  close(pids[1]);
  waitpid(parent, nullptr, 0);
}

TEST(AwaitExit, AProcessAlreadyGoneIsEnded) {
  const pid_t pid = childSleeping(0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  EXPECT_TRUE(awaitExit(pid, 1s));
}

}  // namespace
}  // namespace banger::vm
