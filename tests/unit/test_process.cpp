#include <gtest/gtest.h>

#include "banger/errors.h"
#include "banger/process.h"
#include "banger/size.h"
#include "banger/worker_pool.h"

#include <atomic>
#include <mutex>
#include <thread>

using namespace banger;

TEST(Process, CapturesOutputAndExitCode) {
  SystemProcessRunner runner;
  const auto r = runner.run({{"sh", "-c", "echo out; echo err >&2; exit 3"}});
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Process, FeedsStdinAndEnvironment) {
  SystemProcessRunner runner;
  Command c{{"sh", "-c", "cat; printf %s \"$GREETING\""}};
  c.stdinData = std::string(200000, 'x');
  c.extraEnv["GREETING"] = "hello";
  const auto r = runner.run(c);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out.size(), 200005U);
  EXPECT_EQ(r.out.substr(200000), "hello");
}

TEST(Process, TimeoutKills) {
  SystemProcessRunner runner;
  Command c{{"sleep", "10"}};
  c.timeout = std::chrono::milliseconds(200);
  const auto r = runner.run(c);
  EXPECT_TRUE(r.timedOut);
  EXPECT_FALSE(r.ok());
}

TEST(Process, MissingProgramIsNotFound) {
  SystemProcessRunner runner;
  try {
    runner.run({{"banger-no-such-program"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_NE(std::string(e.what()).find("banger-no-such-program"), std::string::npos);
  }
}

TEST(Size, ParsesAndFormats) {
  EXPECT_EQ(parseSize("8G"), 8ULL << 30);
  EXPECT_EQ(parseSize("8GiB"), 8ULL << 30);
  EXPECT_EQ(parseSize("512M"), 512ULL << 20);
  EXPECT_EQ(parseSize("1.5G"), 3ULL << 29);
  EXPECT_EQ(parseSize("4096"), 4096U);
  EXPECT_FALSE(parseSize("lots"));
  EXPECT_FALSE(parseSize("8X"));
  EXPECT_FALSE(parseSize(""));
  EXPECT_FALSE(parseSize(std::string(400, '9')));
  EXPECT_FALSE(parseSize("99999999999999999999T"));  // beyond 64 bits
  EXPECT_EQ(formatSize(8ULL << 30), "8G");
  EXPECT_EQ(formatSize(1536ULL << 20), "1536M");
  EXPECT_EQ(formatSize(1000), "1000");
}

TEST(WorkerPool, RefusesWorkBeyondItsQueue) {
  std::mutex gate;
  std::unique_lock hold(gate);
  WorkerPool pool(1, 2);
  std::atomic<bool> started{false};
  std::atomic<int> finished{0};
  pool.submit([&] {
    started = true;
    std::lock_guard wait(gate);  // keeps the only worker busy
  });
  while (!started) std::this_thread::yield();
  pool.submit([&] { ++finished; });
  pool.submit([&] { ++finished; });
  try {
    pool.submit([] {});
    FAIL() << "a full queue accepted more work";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Busy);
  }
  hold.unlock();
  while (pool.pending() != 0) std::this_thread::yield();
  EXPECT_EQ(finished, 2);
}
