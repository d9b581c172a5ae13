// /org/banger/Vm/machine/<name>: org.banger.Vm1.Machine, the thin bus face of one machine.
// It validates, hands the work to the manager (MachineActions) and replies; its
// properties are the record's, and update() emits PropertiesChanged for what changed.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include "banger/bus_object.h"
#include "banger/dbus_call.h"
#include "banger/options.h"
#include "machine.h"
#include "org.banger.Vm1.Machine_adaptor.h"

namespace banger::vm {

class MachineActions {
 public:
  virtual ~MachineActions() = default;
  virtual sdbus::ObjectPath start(const std::string& name, uint32_t caller) = 0;
  virtual sdbus::ObjectPath stop(const std::string& name, std::chrono::seconds timeout, bool force,
                                 uint32_t caller) = 0;
  virtual sdbus::ObjectPath restart(const std::string& name, uint32_t caller) = 0;
  virtual void kill(const std::string& name, int signal) = 0;
  virtual sdbus::ObjectPath remove(const std::string& name, uint32_t caller) = 0;
  virtual void set(sdbus::Result<>&& result, const std::string& name,
                   const VariantMap& settings) = 0;
  virtual sdbus::UnixFd console(const std::string& name) = 0;
  using PortRows = std::vector<
      sdbus::Struct<std::string, std::string, uint16_t, std::string, uint32_t, std::string>>;
  virtual void stats(sdbus::Result<VariantMap>&& result, const std::string& name) = 0;
  virtual void health(sdbus::Result<bool, std::string>&& result, const std::string& name) = 0;
  virtual void ports(sdbus::Result<PortRows>&& result, const std::string& name) = 0;
  virtual std::tuple<std::string, std::string, uint16_t, std::string, std::string> sshTarget(
      const std::string& name) = 0;
  virtual sdbus::ObjectPath prepareWorkspace(const std::string& name, const std::string& hostPath,
                                             const VariantMap& options, uint32_t caller) = 0;
  virtual void listWorkspaceFiles(sdbus::Result<std::vector<std::string>>&& result,
                                  const std::string& name, const std::string& hostPath,
                                  const VariantMap& options) = 0;
};

class MachineObject final : public PublishedObject<org::banger::Vm1::Machine_adaptor> {
 public:
  MachineObject(sdbus::IConnection& connection, MachineRecord record, CallGuard& guard,
                MachineActions& actions);
  ~MachineObject();

  const MachineRecord& record() const { return record_; }
  void update(const MachineRecord& record);
  static sdbus::ObjectPath pathFor(const std::string& name);

 private:
  sdbus::ObjectPath Start() override;
  sdbus::ObjectPath Stop(const VariantMap& options) override;
  sdbus::ObjectPath Restart() override;
  void Kill(const std::string& signal) override;
  sdbus::ObjectPath Delete(const VariantMap& options) override;
  void Set(sdbus::Result<>&& result, VariantMap settings) override;
  sdbus::UnixFd OpenConsole() override;
  void Stats(sdbus::Result<VariantMap>&& result) override;
  void Ports(sdbus::Result<MachineActions::PortRows>&& result) override;
  void Health(sdbus::Result<bool, std::string>&& result) override;
  std::tuple<std::string, std::string, uint16_t, std::string, std::string> SshTarget() override;
  sdbus::ObjectPath PrepareWorkspace(const std::string& hostPath,
                                     const VariantMap& options) override;
  void ListWorkspaceFiles(sdbus::Result<std::vector<std::string>>&& result, std::string hostPath,
                          VariantMap options) override;

  std::string Name() override { return record_.name; }
  std::string Id() override { return record_.id; }
  std::string State() override { return std::string(machineStateName(record_.state)); }
  std::string Image() override { return record_.image; }
  std::string Kernel() override { return record_.kernel; }
  uint32_t VCpus() override { return record_.vcpus; }
  uint32_t MemoryMiB() override { return record_.memoryMib; }
  uint64_t DiskBytes() override { return record_.diskBytes; }
  std::string Address() override { return record_.lease ? record_.lease->address : ""; }
  std::string Gateway() override { return record_.lease ? record_.lease->gateway : ""; }
  std::string Mac() override { return record_.lease ? record_.lease->mac : ""; }
  std::string Hostname() override { return record_.hostname(); }
  bool Nat() override { return record_.nat; }
  uint32_t Pid() override { return static_cast<uint32_t>(record_.pid); }
  uint64_t CreatedAt() override { return record_.createdAtUs; }
  uint64_t StartedAt() override { return record_.startedAtUs; }
  std::string LastError() override { return record_.lastError; }

  MachineRecord record_;
  CallGuard& guard_;
  MachineActions& actions_;
};

// A signal by name ("TERM", "SIGKILL") or number, as kill(1) takes it; InvalidArgument.
int parseSignal(const std::string& name);

}  // namespace banger::vm
