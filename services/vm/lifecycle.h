// What happens to a machine, bus-free (docs/vm.md): create, boot, wait for the guest,
// stop, delete. Runs on worker threads; every record change goes to the store first and
// then to `publish`, which the bus face turns into PropertiesChanged on the loop thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "agent_client.h"
#include "banger/config.h"
#include "banger/job.h"
#include "banger/paths.h"
#include "firecracker_client.h"
#include "image_client.h"
#include "launcher.h"
#include "machine_store.h"
#include "net_client.h"
#include "ssh_keys.h"

namespace banger::vm {

// Everything outside the service the lifecycle reaches, each behind its interface.
struct Peers {
  std::unique_ptr<NetClient> net;
  std::unique_ptr<ImageClient> image;
  std::unique_ptr<FirecrackerApi> firecracker;
  std::unique_ptr<Launcher> launcher;
  std::unique_ptr<AgentClient> agent;
  // git, tar and ssh on this machine, for workspaces.
  std::unique_ptr<ProcessRunner> programs;
};

// Where a machine's files live.
struct MachinePaths {
  std::filesystem::path dir;         // $STATE/vm/machines/<id>: disks, console, log
  std::filesystem::path runtimeDir;  // $RUNTIME/vm/<id>: the API and vsock sockets
  std::filesystem::path apiSocket() const { return runtimeDir / "api.sock"; }
  std::filesystem::path vsockSocket() const { return runtimeDir / "vsock.sock"; }
  std::filesystem::path console() const { return dir / "console.log"; }
  std::filesystem::path firecrackerLog() const { return dir / "firecracker.log"; }
};

class Lifecycle {
 public:
  using Publish = std::function<void(const MachineRecord&)>;

  Lifecycle(UserPaths paths, Peers peers, Publish publish);

  MachinePaths pathsOf(const MachineRecord& record) const;
  MachineStore& store() { return store_; }
  AgentClient& agent() { return *peers_.agent; }
  ProcessRunner& programs() { return *peers_.programs; }
  SshFiles sshFiles(const Config& config) const;

  // The create job's work after the record exists: resolve, image, network, disks, then
  // (when asked) boot, agent, ssh. Failures leave the machine in `error` with LastError.
  void create(MachineRecord record, bool start, JobContext& job);
  void start(MachineRecord record, JobContext& job);
  // A machine caught booting by a kill of the service, whose Firecracker still runs: the
  // wait for its agent and sshd goes on, then it is `running` (or `error`, as a boot).
  void resumeBoot(MachineRecord record, JobContext& job);
  // SendCtrlAltDel, `timeout` to go, then SIGKILL; force: SIGKILL at once.
  void stop(MachineRecord record, std::chrono::seconds timeout, bool force, JobContext& job);
  // Stop (forced), release the lease, remove the disks, the record: in that order.
  void destroy(MachineRecord record, JobContext& job);
  // The Firecracker process `pid` ended on its own (guest power-off, crash): the stored
  // record, freshly read, becomes stopped or error. Nullopt when the record has moved on
  // (deleted, or another process since).
  std::optional<MachineRecord> processEnded(const std::string& name, pid_t pid, int exitCode);

  // After a Firecracker is known to be gone or not ours any more: its sockets removed, an
  // orphan still listening on the API socket (started but never recorded) killed, half-made
  // disks removed, pid cleared. The caller stores the record.
  void cleanUpAfterProcess(MachineRecord& record);
  // Releases this user's Net leases that no running machine holds: those of machines that
  // are not running, and those no record has (a crash between AcquireLease and the record).
  void releaseOrphanLeases();
  // A lease is held only while a machine runs: released at stop, on a failed start and
  // when its Firecracker ends on its own.
  void releaseLease(MachineRecord& record);
  // Ends the ssh master connection the CLI or a workspace left for this VM (ControlMaster).
  void endSshMaster(const MachineRecord& record);
  // Set's changes, applied to the stored record (not a copy that may be behind it). Disks
  // only grow (InvalidArgument otherwise).
  void setNat(const std::string& name, bool enabled);
  MachineRecord setSizes(const std::string& name, std::optional<uint32_t> vcpus,
                         std::optional<uint32_t> memoryMib, std::optional<uint64_t> diskBytes);

  // Whether the machine's Firecracker still runs a guest: pid alive, and its API socket
  // answers with its id and an instance that was started.
  bool stillRunning(const MachineRecord& record);

 private:
  void commit(MachineRecord& record);
  void fail(MachineRecord& record, const std::string& message);
  // Firecracker started, its runtime directory made ready; the future gives its pid once
  // its API socket answers. It needs neither the disks nor the lease until it is
  // configured, so it comes up while they are made.
  std::future<pid_t> launchFirecracker(const MachineRecord& record, const Config& config);
  // The launched Firecracker recorded, configured and started. `set` is what create just
  // resolved, or what start resolves: asked of Image once.
  void boot(MachineRecord& record, pid_t firecracker, const BootSet& set, JobContext& job);
  void waitReady(MachineRecord& record, const Config& config, JobContext& job);
  void endProcess(MachineRecord& record, std::chrono::seconds timeout, bool force);
  void acquireLease(MachineRecord& record, const Config& config, JobContext& job);
  // The overlay disk with a new host key, and the work disk from the image's seed with the
  // user's key and file_sync.
  void makeDisks(const MachineRecord& record, const Config& config, const BootSet& set,
                 JobContext& job);
  // After a failed create or start: Firecracker killed, the lease released.
  void windDown(MachineRecord& record);
  void refreshSshFiles(const Config& config);
  Config loadConfig() const;

  UserPaths paths_;
  Peers peers_;
  Publish publish_;
  MachineStore store_;
  std::mutex sshFilesMutex_;
  // Held by the two changes that may meet another operation on the same machine (a NAT
  // change, a Firecracker's end): each reads the stored record and writes it back under it,
  // so neither writes back what the other changed.
  std::mutex recordChangeMutex_;
};

// The boot args banger-init reads (docs/guest.md), with the console on ttyS0.
std::string bootArgs(const MachineRecord& record);

// This host's boot id (/proc/sys/kernel/random/boot_id).
std::string hostBootId();

}  // namespace banger::vm
