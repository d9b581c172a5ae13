// A job queued behind a machine's boot: `vm run` asks for its workspace copy while the VM
// is still being created, so the repository is read during the boot. The job's thread waits
// here for the boot's end, which the loop thread reports; whoever comes second sees what
// the first left.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "machine.h"

namespace banger::vm {

class BootWait {
 public:
  // Job thread: the running machine's record once the boot has ended well. Failed naming
  // `name` and why when it did not; Canceled when `cancel` is set first.
  MachineRecord wait(const std::string& name, const std::string& operation,
                     const std::atomic<bool>* cancel);
  // Job thread: the record as soon as the guest's agent answers, which is before the boot
  // ends (it still waits for sshd): enough for what goes through the agent. As wait()
  // otherwise.
  MachineRecord waitForGuest(const std::string& name, const std::string& operation,
                             const std::atomic<bool>* cancel);
  // Loop thread: the guest's agent answers; `record` has its lease.
  void guestUp(const MachineRecord& record);
  // Loop thread, when the boot has ended: runs `take` unless the job is already over.
  // `take` makes the job the machine's next operation and returns its record, or throws why
  // it cannot run.
  void bootEnded(const std::function<MachineRecord()>& take);
  // Job thread, at the job's end: from now on the boot's end is ignored. Whether `take`
  // made it the machine's operation, which the caller then releases.
  bool finish();

 private:
  std::mutex mutex_;
  std::condition_variable decided_;
  MachineRecord waitUntil(const std::function<bool()>& ready, const std::string& name,
                          const std::string& operation, const std::atomic<bool>* cancel,
                          std::unique_lock<std::mutex>& lock);

  std::optional<MachineRecord> guest_;
  std::optional<MachineRecord> record_;
  std::optional<std::string> failure_;
  bool over_ = false;
};

}  // namespace banger::vm
