// Ending a VM's ssh master: a process of this user listening on the control socket stands
// for OpenSSH's master. It answers as mux.c does: its HELLO first, then it exits when a
// client's HELLO (protocol 4) is followed by MUX_C_TERMINATE, as on `ssh -O exit`. (The
// guest tests end real masters: VmLifecycle.CreateReachesRunning...)
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

// A master on `path` that ends when asked to, unless `deaf`; killed at the end of the test
// whatever happened, and never holding the test's output.
class Listener {
 public:
  explicit Listener(const fs::path& path, bool deaf = false) {
    pid_ = fork();
    if (pid_ == 0) {
      freopen("/dev/null", "w", stdout);
      freopen("/dev/null", "w", stderr);
      execlp("python3", "python3", "-c",
             "import socket,struct,sys\n"
             "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)\n"
             "hello=struct.pack('>III',8,1,4)\n"
             "def asked(c):\n"
             "  c.sendall(hello); got=b''\n"
             "  while len(got)<24:\n"
             "    more=c.recv(64)\n"
             "    if not more: break\n"
             "    got+=more\n"
             "  return got==hello+struct.pack('>III',8,0x10000005,1)\n"
             "while True:\n"
             "  c,_=s.accept()\n"
             "  try:\n"
             "    if asked(c) and sys.argv[2]=='obey': sys.exit(0)\n"
             "  except OSError: pass\n"
             "  if sys.argv[2]=='obey': c.close()\n",
             path.c_str(), deaf ? "deaf" : "obey", nullptr);
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
  // It has closed its connections when endSshMaster returns; its exit follows at once.
  int status = -1;
  ASSERT_TRUE(test::waitFor([&] { return (status = master.endedWith()) != -1; }, 1s));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "not ended by its request";
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

TEST(SshMaster, AMasterThatDoesNotEndIsReported) {
  test::TempDir dir;
  const fs::path control = dir.path() / "ssh.ctl";
  Listener deaf(control, true);
  EXPECT_FALSE(endSshMaster(control.string(), 200ms));
  EXPECT_EQ(deaf.endedWith(), -1);
}

}  // namespace
}  // namespace banger::vm
