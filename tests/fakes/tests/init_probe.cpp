// init-probe, a static guest init for the simulator's initrd tests (the initrd holds
// nothing else). Prints what the test checks to the console, marks its root so the next
// boot can tell whether the initrd was unpacked afresh, then powers off, or exits N as
// a failing init would when the command line says probe.exit=N.
#include <sys/reboot.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

int main(int, char** argv) {
  std::ifstream in("/proc/cmdline");
  std::string commandLine;
  std::getline(in, commandLine);
  std::printf("init %s pid %d\n", argv[0], static_cast<int>(getpid()));
  std::printf("cmdline %s\n", commandLine.c_str());
  std::printf("marker %s\n", access("/marker", F_OK) == 0 ? "present" : "absent");
  std::printf("vda %s\n", access("/dev/vda", F_OK) == 0 ? "present" : "absent");
  std::fflush(stdout);
  std::ofstream("/marker") << "booted\n";
  std::istringstream words(commandLine);
  for (std::string word; words >> word;)
    if (word.rfind("probe.exit=", 0) == 0) return std::atoi(word.c_str() + 11);
  sync();
  reboot(RB_POWER_OFF);  // in a PID namespace: PID 1 ends by SIGINT, nspawn says poweroff
  std::perror("reboot");
  return 1;
}
