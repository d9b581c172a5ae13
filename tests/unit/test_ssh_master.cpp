// Ending a VM's ssh master: a process of this user listening on the control socket stands
// for OpenSSH's master, which ends on SIGTERM as it does on `ssh -O exit`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"
#include "ssh_master.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A listener on `path` that runs until a signal ends it (SIGKILL only, if `ignoreTerm`);
// killed at the end of the test whatever happened, and never holding the test's output.
class Listener {
 public:
  explicit Listener(const fs::path& path, bool ignoreTerm = false) {
    pid_ = fork();
    if (pid_ == 0) {
      if (ignoreTerm) signal(SIGTERM, SIG_IGN);
      freopen("/dev/null", "w", stdout);
      freopen("/dev/null", "w", stderr);
      execlp("python3", "python3", "-c",
             "import socket,sys,time\n"
             "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)\n"
             "while True: time.sleep(1)\n",
             path.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 500 && !fs::exists(path); ++i) usleep(10'000);
  }
  ~Listener() { end(SIGKILL); }
  // The wait status once it has ended, without waiting; -1 while it runs.
  int endedWith() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return status;
    }
    return -1;
  }
  void end(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  pid_t pid_ = 0;
};

TEST(SshMaster, TheListenerOnTheControlSocketEndsAndTheSocketIsGone) {
  test::TempDir dir;
  const fs::path control = dir.path() / "ssh.ctl";
  EXPECT_FALSE(sshMasterListens(control.string()));
  Listener master(control);
  ASSERT_TRUE(fs::exists(control));
  EXPECT_TRUE(sshMasterListens(control.string()));
  EXPECT_TRUE(endSshMaster(control.string(), 2s));
  EXPECT_FALSE(sshMasterListens(control.string()));
  const int status = master.endedWith();
  ASSERT_NE(status, -1) << "ended means gone when it returns";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_FALSE(fs::exists(control));
}

TEST(SshMaster, AStaleSocketFileOrNoneIsOnlyRemoved) {
  test::TempDir dir;
  const fs::path control = dir.path() / "ssh.ctl";
  EXPECT_TRUE(endSshMaster(control.string(), 1s));
  Listener(control).end(SIGKILL);
  ASSERT_TRUE(fs::exists(control)) << "a dead listener leaves its socket file";
  EXPECT_TRUE(endSshMaster(control.string(), 1s));
  EXPECT_FALSE(fs::exists(control));
}

TEST(SshMaster, AMasterThatIgnoresTheSignalIsReported) {
  test::TempDir dir;
  const fs::path control = dir.path() / "ssh.ctl";
  Listener stubborn(control, true);
  EXPECT_FALSE(endSshMaster(control.string(), 200ms));
}

}  // namespace
}  // namespace banger::vm
