// The guest's userspace under systemd-nspawn, as GUEST-SIMULATOR.md lays it out, inside a
// helper that is PID 1 of a PID namespace and owns a private mount namespace: when the
// helper dies (with the simulator, through PR_SET_PDEATHSIG) the kernel kills every
// process of the guest and drops every mount, which releases the loop devices.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/vm_config.h"
#include "loop_devices.h"

namespace fcfake::sim {

struct GuestPlan {
  std::string machineName;
  std::string commandLine;           // what the guest reads from /proc/cmdline
  const Drive* rootDrive = nullptr;  // mounted as the tree without an initrd
  int initrdFd = -1;                 // -1: boot the root drive
  const std::vector<LoopDevice>* disks = nullptr;
  int netnsFd = -1;
  int consoleFd = -1;
  unsigned memSizeMib = 128;  // bounds the guest's tmpfs /tmp as its RAM would
  std::string nspawnBinary;
};

class GuestProcess {
 public:
  // Forks the helper and returns once systemd-nspawn is about to run; the filter's
  // listener (see syscall_supervisor.h) comes back through `listener`.
  GuestProcess(const GuestPlan& plan, UniqueFd& listener);
  ~GuestProcess();

  // The host pid of the guest's PID 1, once it exists.
  std::optional<pid_t> guestInit() const;
  // Blocks until the helper ends: systemd-nspawn's exit status (128+n for a signal).
  int wait();
  // Ends every guest process at once.
  void kill();
  pid_t helper() const { return helper_; }

 private:
  pid_t helper_ = -1;
  std::atomic<bool> reaped_{false};
  int status_ = 0;
};

// The init the kernel would run: rdinit= (or /init) with an initrd, else init= (or /sbin/init).
std::string initFor(const std::string& commandLine, bool withInitrd);

}  // namespace fcfake::sim
