// org.banger.Net, as the Vm service uses it: one lease per machine (its id is the vm_id),
// NAT per machine, and the list of this user's leases for reconciling after a crash.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "machine.h"

namespace sdbus {
class IConnection;
class IProxy;
}  // namespace sdbus

namespace banger::vm {

class NetClient {
 public:
  virtual ~NetClient() = default;
  virtual MachineLease acquire(const std::string& machineId, bool nat) = 0;
  virtual void release(const std::string& machineId) = 0;
  virtual void setNat(const std::string& machineId, bool enabled) = 0;
  virtual std::vector<std::string> leasedMachineIds() = 0;
};

// Calls Net on the system bus from worker threads, one call at a time (an sd-bus
// connection is not to be used by two threads at once). Net's errors keep their names:
// AccessDenied arrives with Net's hint about the banger group.
class BusNetClient final : public NetClient {
 public:
  BusNetClient();
  ~BusNetClient() override;
  MachineLease acquire(const std::string& machineId, bool nat) override;
  void release(const std::string& machineId) override;
  void setNat(const std::string& machineId, bool enabled) override;
  std::vector<std::string> leasedMachineIds() override;

 private:
  sdbus::IProxy& proxy();
  std::mutex mutex_;
  std::unique_ptr<sdbus::IConnection> connection_;
  std::unique_ptr<sdbus::IProxy> proxy_;
};

}  // namespace banger::vm
