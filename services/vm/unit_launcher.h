// Firecracker in a transient unit of the user's systemd manager (`banger-vm-NAME.service`,
// StartTransientUnit on the session bus): the VM then has its own cgroup, shows in
// `systemctl --user status`, and outlives banger-vm by construction. Where the session
// bus has no systemd (a bare dbus-daemon), the fallback launcher (detached) is used.
#pragma once

#include <memory>
#include <mutex>

#include "launcher.h"

namespace sdbus {
class IConnection;
}

namespace banger::vm {

class UnitLauncher final : public Launcher {
 public:
  explicit UnitLauncher(std::unique_ptr<Launcher> fallback);
  ~UnitLauncher() override;
  pid_t launch(const LaunchRequest& request) override;

 private:
  bool managerPresent();
  void startUnit(const LaunchRequest& request);
  // ActiveState of the unit; "" once systemd has forgotten it (ended and collected).
  std::string activeState(const std::string& unit);
  void killUnit(const std::string& unit);

  std::unique_ptr<Launcher> fallback_;
  std::mutex mutex_;  // one connection, used from any worker
  std::unique_ptr<sdbus::IConnection> connection_;
};

}  // namespace banger::vm
