// Workspaces: a repository on this machine copied into a running guest, through
// banger-agent over vsock while the boot's first SSH login runs beside it.
#include "agent_client.h"
#include "banger/errors.h"
#include "boot_wait.h"
#include "first_login.h"
#include "guest_shell.h"
#include "vm_manager.h"
#include "workspace.h"

namespace banger::vm {

sdbus::ObjectPath VmManager::runJobWhenRunning(
    const std::string& operation, const std::string& name, uint32_t caller,
    const std::string& needsRunning, std::function<void(JobContext&, const MachineWaits&)> work) {
  MachineObject& object = machine(name);
  const auto busy = activeOperations_.find(name);
  if (busy == activeOperations_.end() || (busy->second != "create" && busy->second != "start")) {
    const MachineRecord& record = object.record();
    if (busy == activeOperations_.end() && (record.state != MachineState::Running || !record.lease))
      fail(ErrorCode::Busy, "machine " + name + " is " +
                                std::string(machineStateName(record.state)) + "; " + needsRunning +
                                ": banger vm start " + name);
    return runJob(operation, name, caller, [work](const MachineRecord& r, JobContext& job) {
      const auto now = [&r] { return r; };
      work(job, {now, now});
    });
  }
  auto wait = std::make_shared<BootWait>();
  afterOperation_[name].push_back([this, wait, name, operation](std::exception_ptr failure) {
    wait->bootEnded([&]() -> MachineRecord {
      if (failure) std::rethrow_exception(failure);
      const MachineRecord& record = machine(name).record();
      if (record.state != MachineState::Running || !record.lease)
        fail(ErrorCode::Failed, "it is " + std::string(machineStateName(record.state)));
      if (const auto other = activeOperations_.find(name); other != activeOperations_.end())
        fail(ErrorCode::Busy, other->second + " came first");
      activeOperations_[name] = operation;
      return record;
    });
  });
  if (const MachineRecord& now = object.record();
      now.state == MachineState::Starting && !now.guestBootId.empty() && now.lease)
    wait->guestUp(now);  // the agent has answered already; the boot waits for sshd
  else
    afterGuestUp_[name].push_back([wait](const MachineRecord& record) { wait->guestUp(record); });
  return jobs_.start(
      operation, object.getObjectPath(), caller,
      [this, wait, name, operation, work, alive = alive_](JobContext& job) {
        const auto release = [&] {
          if (wait->finish())
            context_.loop.post([this, name, alive] {
              if (*alive) activeOperations_.erase(name);
            });
        };
        try {
          work(job, {[&] { return wait->waitForGuest(name, operation, job.cancelFlag()); },
                     [&] { return wait->wait(name, operation, job.cancelFlag()); }});
        } catch (...) {
          release();
          throw;
        }
        release();
      });
}

sdbus::ObjectPath VmManager::prepareWorkspace(const std::string& name, const std::string& hostPath,
                                              const VariantMap& options, uint32_t caller) {
  const WorkspaceOptions parsed = WorkspaceOptions::parse(options);
  const SshFiles files = lifecycle_.sshFiles(loadConfig());
  const std::string vsock = lifecycle_.pathsOf(machine(name).record()).vsockSocket().string();
  // Asked for while the machine boots (vm run), the repository is read during the boot.
  return runJobWhenRunning(
      "workspace", name, caller, "a workspace is copied into a running machine",
      [this, hostPath, parsed, files, vsock](JobContext& job, const MachineWaits& waits) {
        job.stage("reading", hostPath);
        const WorkspacePlan plan = planWorkspace(lifecycle_.programs(), hostPath, parsed);
        // The copy needs only the agent, which answers while the boot still waits for sshd,
        // and runs beside the boot's first login, which leaves the master connection the
        // command of `vm run` and every later session use (first_login.h).
        const MachineRecord r = waits.guestUp();
        // An image whose agent predates /exec copies over ssh, once the boot is over.
        CommandGuestShell overSsh(lifecycle_.programs(),
                                  guestSshCommand(r, files, paths_.runtimeDir),
                                  [&waits] { waits.running(); });
        AgentGuestShell throughAgent(
            [vsock] { return connectToAgent(vsock, std::chrono::seconds(3)); }, overSsh);
        const std::string detail = std::to_string(plan.files.size()) + " files from " +
                                   plan.root.string() + " to " + parsed.guestPath;
        copyWorkspace(
            lifecycle_.programs(), plan, throughAgent,
            [&job, &detail](const std::string& stage) { job.stage(stage, detail); },
            job.cancelFlag());
        waits.running();  // the job ends with the boot, so the session after it has the master
        job.stage("copied", detail);
      });
}

void VmManager::listWorkspaceFiles(sdbus::Result<std::vector<std::string>>&& result,
                                   const std::string& name, const std::string& hostPath,
                                   const VariantMap& options) {
  answerFromWorker(std::move(result), "Vm1.Machine.ListWorkspaceFiles", name,
                   [this, hostPath, options](const MachineRecord&, const MachinePaths&) {
                     const WorkspaceOptions parsed = WorkspaceOptions::parse(options);
                     return planWorkspace(lifecycle_.programs(), hostPath, parsed).files;
                   });
}

}  // namespace banger::vm
