#include <gtest/gtest.h>

#include "banger/errors.h"
#include "banger/process.h"
#include "banger/size.h"
#include "banger/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace banger;
using banger::test::readFile;
using banger::test::TempDir;
using banger::test::waitFor;

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

// The idle hook (the daemons give the heap back there) runs once per burst, when the pool
// has gone quiet: after its last task and its threads' idle time, never while work is
// queued or between tasks that come closer together than that.
TEST(WorkerPool, RunsTheIdleHookOnceWhenTheBurstHasGoneQuiet) {
  std::mutex gate;
  std::unique_lock hold(gate);
  std::atomic<int> finished{0};
  std::atomic<int> idleCalls{0};
  std::atomic<int> finishedWhenIdle{-1};
  std::atomic<size_t> threadsWhenIdle{99};
  {
    WorkerPool* self = nullptr;
    WorkerPool pool(
        2, 16,
        [&] {
          finishedWhenIdle = finished.load();
          threadsWhenIdle = self->threads();
          ++idleCalls;
        },
        std::chrono::milliseconds(1000));  // well beyond the 50 ms gap, even on a busy machine
    self = &pool;
    for (int i = 0; i < 6; ++i)
      pool.submit([&] {
        std::lock_guard wait(gate);
        ++finished;
      });
    hold.unlock();
    while (finished < 6) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pool.submit([&] { ++finished; });  // a second call soon after the first
    while (finished < 7) std::this_thread::yield();
    EXPECT_EQ(idleCalls, 0) << "the heap was given back between two calls 50 ms apart";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (idleCalls == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(idleCalls, 1);
  EXPECT_EQ(finishedWhenIdle, 7);
  EXPECT_EQ(threadsWhenIdle, 1u);  // the last one, about to end
}
// An idle daemon holds no worker thread (nor the stack pages its last burst touched):
// threads start with work, up to the limit, and end after idleExit without any.
TEST(WorkerPool, StartsThreadsWithWorkAndEndsThemWhenIdle) {
  WorkerPool pool(3, 16, {}, std::chrono::milliseconds(100));
  EXPECT_EQ(pool.threads(), 0u);
  std::mutex gate;
  std::unique_lock hold(gate);
  std::atomic<int> finished{0};
  for (int i = 0; i < 5; ++i)
    pool.submit([&] {
      std::lock_guard wait(gate);
      ++finished;
    });
  EXPECT_EQ(pool.threads(), 3u);  // never more than the limit
  hold.unlock();
  while (finished < 5) std::this_thread::yield();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (pool.threads() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pool.threads(), 0u);
  pool.submit([&] { ++finished; });  // work after idleness gets a thread again
  while (finished < 6 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(finished, 6);
}

// A program's output as stream() hands it over, line by line, as it comes.
struct Lines {
  std::mutex mutex;
  std::vector<std::string> out, err;
  OutputSink sink() {
    return {[this](std::string_view l) {
              std::lock_guard lock(mutex);
              out.emplace_back(l);
            },
            [this](std::string_view l) {
              std::lock_guard lock(mutex);
              err.emplace_back(l);
            }};
  }
  size_t outCount() {
    std::lock_guard lock(mutex);
    return out.size();
  }
};

TEST(ProcessStream, HandsOverLinesAsTheyArrive) {
  SystemProcessRunner runner;
  Lines lines;
  std::atomic<bool> sawFirstEarly{false};
  std::thread watcher([&] {
    // The first line is there while the program still sleeps before the second.
    for (int i = 0; i < 200 && !sawFirstEarly; ++i) {
      if (lines.outCount() == 1) sawFirstEarly = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const auto r = runner.stream(
      {{"sh", "-c", "echo one; sleep 0.5; printf 'two\\nthree'; echo oops >&2; exit 4"}},
      lines.sink());
  watcher.join();
  EXPECT_TRUE(sawFirstEarly);
  EXPECT_EQ(r.exitCode, 4);
  EXPECT_EQ(lines.out, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(lines.err, (std::vector<std::string>{"oops"}));
  EXPECT_TRUE(r.out.empty()) << "streamed output is not also kept";
}

TEST(ProcessStream, AnEndlessLineArrivesInBoundedPieces) {
  SystemProcessRunner runner;
  Lines lines;
  const auto r =
      runner.stream({{"sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x"}}, lines.sink());
  EXPECT_TRUE(r.ok());
  size_t total = 0;
  for (const auto& piece : lines.out) {
    EXPECT_LE(piece.size(), OutputSink::kMaxLine);
    total += piece.size();
  }
  EXPECT_EQ(total, 200000U);
}

// stdout to a pipe the caller reads while the program runs (mmdebstrap's tar); stderr
// still arrives as lines.
TEST(ProcessStream, StdoutCanGoToTheCallersPipe) {
  SystemProcessRunner runner;
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  std::string received;
  std::thread reader([&] {
    char buffer[4096];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
      received.append(buffer, static_cast<size_t>(n));
  });
  Lines lines;
  Command command({"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' y; echo done >&2"});
  command.stdoutFd = fds[1];
  const auto r = runner.stream(command, lines.sink());
  close(fds[1]);
  reader.join();
  close(fds[0]);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(received, std::string(300000, 'y'));
  EXPECT_TRUE(lines.out.empty());
  EXPECT_EQ(lines.err, (std::vector<std::string>{"done"}));
}

// Cancel ends the whole process group: SIGTERM first, and SIGKILL for what ignores it.
TEST(ProcessStream, CancelEndsTheProgramAndItsChildren) {
  SystemProcessRunner runner;
  TempDir dir;
  const auto pidFile = dir.path() / "child.pid";
  Command c{{"sh", "-c",
             "trap '' TERM; sleep 30 & echo $! > " + pidFile.string() + "; echo started; wait"}};
  c.killGrace = std::chrono::milliseconds(300);
  std::atomic<bool> cancel{false};
  Lines lines;
  OutputSink sink = lines.sink();
  sink.stdoutLine = [&](std::string_view l) {
    if (l == "started") cancel = true;
  };
  const auto began = std::chrono::steady_clock::now();
  const auto r = runner.stream(c, sink, &cancel);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(10));
  EXPECT_TRUE(r.canceled);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.termSignal, SIGKILL) << "the shell ignores SIGTERM";
  const pid_t grandchild = std::stoi(readFile(pidFile));
  EXPECT_TRUE(waitFor([&] { return kill(grandchild, 0) != 0; }, std::chrono::seconds(5)))
      << "the program's own child outlived the cancel";
}

TEST(ProcessStream, TimeoutSendsTermFirst) {
  SystemProcessRunner runner;
  Command c{{"sleep", "30"}};
  c.timeout = std::chrono::milliseconds(200);
  Lines lines;
  const auto r = runner.stream(c, lines.sink());
  EXPECT_TRUE(r.timedOut);
  EXPECT_EQ(r.termSignal, SIGTERM);
}

TEST(ProcessDetached, OutlivesNothingItWasNotGivenAndRunsInItsOwnSession) {
  SystemProcessRunner runner;
  TempDir dir;
  // Not close-on-exec, and numbered well above 3: a careless spawn would pass it on.
  const int leaked = fcntl(STDERR_FILENO, F_DUPFD, 50);
  int given[2];
  ASSERT_EQ(pipe(given), 0);
  DetachedCommand c;
  c.argv = {"sh", "-c",
            "echo sid=$(cut -d' ' -f6 /proc/self/stat) pid=$$; ls /proc/self/fd; echo hi >&3"};
  c.fds = {given[1]};
  c.logFile = (dir.path() / "log").string();
  const pid_t pid = runner.startDetached(c);
  close(given[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char buffer[8] = {};
  EXPECT_EQ(read(given[0], buffer, sizeof buffer), 3);
  EXPECT_EQ(std::string(buffer), "hi\n");
  const std::string log = readFile(dir.path() / "log");
  // ls itself runs in the same session; its fds: 0-2, 3, and the one it opens to list.
  std::istringstream words(log);
  std::string first, second;
  words >> first >> second;
  EXPECT_EQ(first, "sid=" + second.substr(4)) << "not a session leader: " << log;
  std::vector<int> fds;
  for (std::string fd; words >> fd;) fds.push_back(std::stoi(fd));
  EXPECT_LE(fds.size(), 5U) << log;
  EXPECT_EQ(std::count(fds.begin(), fds.end(), leaked), 0) << "fd " << leaked << " leaked";
  close(leaked);
  close(given[0]);
}
