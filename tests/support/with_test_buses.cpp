// with-test-buses [--idle-timeout SEC] -- COMMAND...
// Runs COMMAND with DBUS_SESSION_BUS_ADDRESS and DBUS_SYSTEM_BUS_ADDRESS pointing at the
// test harness's private buses (banger's activation files, policy and polkitd), so a
// developer can try `busctl --user introspect org.banger.Vm /org/banger/Vm` by hand.
// As root the daemons run in a network namespace of their own; COMMAND does not.
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "harness.h"

int main(int argc, char** argv) {
  banger::test::BusHarness::Options options;
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "--idle-timeout") == 0) {
    options.idleTimeoutSec = static_cast<unsigned>(std::stoul(argv[2]));
    first = 3;
  }
  if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    std::cerr << "usage: with-test-buses [--idle-timeout SEC] -- COMMAND...\n";
    return 2;
  }
  options.systemBus = options.polkit = options.isolateNetwork = geteuid() == 0;
  try {
    banger::test::BusHarness harness(options);
    std::vector<std::string> command(argv + first, argv + argc);
    const pid_t pid =
        banger::test::spawnBackground(command, harness.clientEnvironment(), "/dev/stdout");
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  } catch (const std::exception& e) {
    std::cerr << "with-test-buses: " << e.what() << "\n";
    return 1;
  }
}
