// /org/banger/Vm: org.banger.Vm1.Manager + ObjectManager. The bus face of the service: it
// validates, keeps one Machine object per record, starts jobs and replies; what happens
// to a machine is Lifecycle's. Everything here runs on the loop thread.
#pragma once

#include <map>
#include <memory>

#include "banger/async_reply.h"
#include "banger/daemon.h"
#include "banger/job.h"
#include "banger/names.h"
#include "banger/options.h"
#include "banger/paths.h"
#include "lifecycle.h"
#include "machine_object.h"
#include "org.banger.Vm1.Manager_adaptor.h"
#include "vm_defaults.h"

namespace banger::vm {

inline constexpr const char* kBusName = names::kVmBus;
inline constexpr const char* kRootPath = names::kVmPath;

class VmManager final
    : public sdbus::AdaptorInterfaces<org::banger::Vm1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor>,
      public Service,
      public MachineActions {
 public:
  VmManager(ServiceContext& context, UserPaths paths, std::unique_ptr<HostProbe> host, Peers peers);
  ~VmManager() override;

  bool busy() const override { return jobs_.count() > 0 || !activeOperations_.empty(); }

 private:
  std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> CreateVm(const VariantMap& spec) override;
  std::tuple<VariantMap, std::map<std::string, std::string>> ResolveSpec(
      const VariantMap& overrides) override;
  sdbus::ObjectPath FindMachine(const std::string& name) override;
  std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> ListMachines() override;
  void Prune(sdbus::Result<std::vector<std::string>>&& result, VariantMap options) override;
  std::string Version() override;
  std::string DefaultImage() override;

  // MachineActions, for the Machine objects.
  sdbus::ObjectPath start(const std::string& name, uint32_t caller) override;
  sdbus::ObjectPath stop(const std::string& name, std::chrono::seconds timeout, bool force,
                         uint32_t caller) override;
  sdbus::ObjectPath restart(const std::string& name, uint32_t caller) override;
  void kill(const std::string& name, int signal) override;
  sdbus::ObjectPath remove(const std::string& name, uint32_t caller) override;
  void set(sdbus::Result<>&& result, const std::string& name, const VariantMap& settings) override;
  sdbus::UnixFd console(const std::string& name) override;
  void stats(sdbus::Result<VariantMap>&& result, const std::string& name) override;
  void health(sdbus::Result<bool, std::string>&& result, const std::string& name) override;
  void ports(sdbus::Result<PortRows>&& result, const std::string& name) override;
  // Runs `work` with a copy of the machine's record on a worker; its result is the reply.
  template <class... Results, class Work>
  void answerFromWorker(sdbus::Result<Results...>&& result, const std::string& member,
                        const std::string& name, Work work);
  std::tuple<std::string, std::string, uint16_t, std::string, std::string> sshTarget(
      const std::string& name) override;
  // vm_manager_workspace.cpp
  sdbus::ObjectPath prepareWorkspace(const std::string& name, const std::string& hostPath,
                                     const VariantMap& options, uint32_t caller) override;
  void listWorkspaceFiles(sdbus::Result<std::vector<std::string>>&& result, const std::string& name,
                          const std::string& hostPath, const VariantMap& options) override;

  Config loadConfig() const;
  MachineObject& machine(const std::string& name);
  // Runs `work` as a job on the machine, one job per machine at a time (Busy otherwise).
  // `then` runs on the loop once the work is over, with what it threw (or nullptr).
  using AfterJob = std::function<void(std::exception_ptr)>;
  sdbus::ObjectPath runJob(const std::string& operation, const std::string& name, uint32_t caller,
                           std::function<void(const MachineRecord&, JobContext&)> work,
                           AfterJob then = {});
  // Runs `work` as a job once the machine is running: at once when it is, as runJob does,
  // or, while its boot (create, start) is under way, as its next operation after the boot.
  // The job starts at once either way; `work` calls `running` when it needs the machine,
  // which waits for the boot and fails the job if the boot did, and `guestUp` when the
  // guest's agent is enough, which returns as soon as that answers. In another state than
  // running or booting: Busy, saying `needsRunning` ("a workspace is copied into a running
  // machine") and how to start it.
  struct MachineWaits {
    std::function<MachineRecord()> guestUp;
    std::function<MachineRecord()> running;
  };
  sdbus::ObjectPath runJobWhenRunning(const std::string& operation, const std::string& name,
                                      uint32_t caller, const std::string& needsRunning,
                                      std::function<void(JobContext&, const MachineWaits&)> work);
  sdbus::ObjectPath deleteMachine(const std::string& name, uint32_t caller, AfterJob then);
  void published(const MachineRecord& record);
  void watchProcess(const MachineRecord& record);
  void processEnded(const std::string& name, pid_t pid, int exitCode);
  void reconcile();

  // False once the manager is gone: work posted by jobs checks it. Declared first, since
  // lifecycle_'s callback captures it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ServiceContext& context_;
  CallGuard& guard_;
  UserPaths paths_;
  std::unique_ptr<HostProbe> host_;
  JobManager jobs_;
  Lifecycle lifecycle_;
  std::map<std::string, std::unique_ptr<MachineObject>> machines_;
  std::map<std::string, std::string> activeOperations_;          // machine → its job's operation
  std::map<std::string, std::vector<AfterJob>> afterOperation_;  // machine → waits for its job
  // machine → waits for its guest's agent to answer during a boot
  std::map<std::string, std::vector<std::function<void(const MachineRecord&)>>> afterGuestUp_;
  std::map<pid_t, int> watched_;  // Firecracker pid → its pidfd
};

template <class... Results, class Work>
void VmManager::answerFromWorker(sdbus::Result<Results...>&& result, const std::string& member,
                                 const std::string& name, Work work) {
  guardAsync(guard_, context_.loop, member, std::move(result),
             [&](const AsyncReply<Results...>& reply) {
               const MachineRecord record = machine(name).record();
               const MachinePaths paths = lifecycle_.pathsOf(record);
               context_.pool.submit([reply, record, paths, work, alive = alive_] {
                 try {
                   std::apply([&](auto&&... values) { reply.succeed(values...); },
                              std::tuple<Results...>(work(record, paths)));
                 } catch (...) {
                   reply.fail(std::current_exception());
                 }
               });
             });
}

}  // namespace banger::vm
