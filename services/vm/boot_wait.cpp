#include "boot_wait.h"

#include <chrono>
#include <exception>

#include "banger/errors.h"

namespace banger::vm {

MachineRecord BootWait::waitUntil(const std::function<bool()>& ready, const std::string& name,
                                  const std::string& operation, const std::atomic<bool>* cancel,
                                  std::unique_lock<std::mutex>& lock) {
  while (!ready() && !failure_) {
    if (cancel && cancel->load()) {
      over_ = true;  // a boot that ends later leaves the machine to whoever asks next
      fail(ErrorCode::Canceled, operation + " was canceled while " + name + " was starting");
    }
    // Canceling is polled: it is a flag, not something that notifies.
    decided_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (failure_ && !ready())
    fail(ErrorCode::Failed,
         name + " did not come up, so " + operation + " did not run: " + *failure_);
  return record_ ? *record_ : *guest_;
}

MachineRecord BootWait::wait(const std::string& name, const std::string& operation,
                             const std::atomic<bool>* cancel) {
  std::unique_lock lock(mutex_);
  return waitUntil([this] { return record_.has_value(); }, name, operation, cancel, lock);
}

MachineRecord BootWait::waitForGuest(const std::string& name, const std::string& operation,
                                     const std::atomic<bool>* cancel) {
  std::unique_lock lock(mutex_);
  return waitUntil([this] { return record_ || guest_; }, name, operation, cancel, lock);
}

void BootWait::guestUp(const MachineRecord& record) {
  const std::lock_guard lock(mutex_);
  guest_ = record;
  decided_.notify_all();
}

void BootWait::bootEnded(const std::function<MachineRecord()>& take) {
  const std::lock_guard lock(mutex_);
  if (over_) return;
  try {
    record_ = take();
  } catch (const std::exception& error) {
    failure_ = error.what();
  }
  decided_.notify_all();
}

bool BootWait::finish() {
  const std::lock_guard lock(mutex_);
  over_ = true;
  return record_.has_value();
}

}  // namespace banger::vm
