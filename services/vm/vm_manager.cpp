#include "vm_manager.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "banger/async_reply.h"
#include "banger/errors.h"
#include "banger/log.h"
#include "banger/vm_name.h"
#include "banger/vm_spec.h"
#include "banger_build_config.h"
#include "observe.h"
#include "spec.h"

namespace banger::vm {
namespace {

// The busy mark of a NAT change: the only operation that leaves Firecracker running.
constexpr const char* kChangingNat = "changing NAT";

uint64_t nowUs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

VmManager::VmManager(ServiceContext& context, UserPaths paths, std::unique_ptr<HostProbe> host,
                     Peers peers)
    : AdaptorInterfaces(context.connection, kRootPath),
      context_(context),
      guard_(context.guard),
      paths_(std::move(paths)),
      host_(std::move(host)),
      jobs_(context.connection, context.loop, context.pool, context.guard, kRootPath,
            managerJobSignals(*this)),
      lifecycle_(paths_, std::move(peers), [this, alive = alive_](const MachineRecord& record) {
        context_.loop.post([this, alive, record] {
          if (*alive) published(record);
        });
      }) {
  registerAdaptor();
  reconcile();
}

VmManager::~VmManager() {
  *alive_ = false;
  for (const auto& [pid, fd] : watched_) {
    context_.loop.removeFd(fd);
    ::close(fd);
  }
  machines_.clear();
  jobs_.withdrawAll();
  unregisterAdaptor();
}

Config VmManager::loadConfig() const {
  return banger::loadConfig(paths_.configFile(), paths_.home);
}

MachineObject& VmManager::machine(const std::string& name) {
  auto it = machines_.find(name);
  if (it == machines_.end()) fail(ErrorCode::NotFound, "no machine named " + name);
  return *it->second;
}

void VmManager::published(const MachineRecord& record) {
  auto it = machines_.find(record.name);
  if (it == machines_.end()) return;
  it->second->update(record);
  watchProcess(record);
  // A boot's record once the agent answered: still starting, this boot's id known.
  if (record.state == MachineState::Starting && !record.guestBootId.empty() && record.lease)
    if (auto waiting = afterGuestUp_.extract(record.name))
      for (const auto& next : waiting.mapped()) next(record);
}

void VmManager::watchProcess(const MachineRecord& record) {
  if (record.pid <= 0 || watched_.count(record.pid)) return;
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, record.pid, 0));
  if (fd < 0) return;  // already gone; the job that started it will notice
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  const pid_t pid = record.pid;
  watched_[pid] = fd;
  context_.loop.addFd(fd, POLLIN, [this, pid, fd, name = record.name](short) {
    int status = 0;
    int exitCode = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    context_.loop.removeFd(fd);
    ::close(fd);
    watched_.erase(pid);
    processEnded(name, pid, exitCode);
  });
}

void VmManager::processEnded(const std::string& name, pid_t pid, int exitCode) {
  auto it = machines_.find(name);
  // A job that ends the process (stop, delete, a failed start) records the outcome itself;
  // a NAT change does not, so an end during one is recorded here.
  const auto busy = activeOperations_.find(name);
  if (it == machines_.end() || (busy != activeOperations_.end() && busy->second != kChangingNat) ||
      it->second->record().pid != pid)
    return;
  log::info("machine " + name + ": Firecracker (pid " + std::to_string(pid) + ") ended with " +
            std::to_string(exitCode));
  try {
    const std::optional<MachineRecord> recorded = lifecycle_.processEnded(name, pid, exitCode);
    if (!recorded) return;
    MachineRecord ended = *recorded;
    it->second->update(ended);
    context_.pool.submit([this, ended, alive = alive_]() mutable {
      try {
        lifecycle_.releaseLease(ended);
      } catch (const std::exception& error) {
        log::warning("releasing the lease of " + ended.name + " failed: " + error.what());
      }
    });
  } catch (const std::exception& error) {
    log::error("recording the end of " + name + " failed: " + error.what());
  }
}

void VmManager::reconcile() {
  std::vector<std::string> stillBooting;
  for (MachineRecord record : lifecycle_.store().all()) {
    const MachineRecord before = record;
    if (lifecycle_.stillRunning(record)) {
      // Caught booting: it stays `starting` until its agent and sshd answer (below).
      if (record.state == MachineState::Starting && record.lease)
        stillBooting.push_back(record.name);
      else
        record.state = MachineState::Running;
    } else {
      if (record.state == MachineState::Created || record.state == MachineState::Starting) {
        record.state = MachineState::Error;
        record.lastError =
            "interrupted while it was being made or started; start it again or "
            "delete it";
      } else if (record.state != MachineState::Error) {
        record.state = MachineState::Stopped;
      }
      lifecycle_.cleanUpAfterProcess(record);
    }
    if (!(record == before)) lifecycle_.store().update(record);
    machines_[record.name] =
        std::make_unique<MachineObject>(context_.connection, record, guard_, *this);
    watchProcess(record);
  }
  // Leases no record holds (a crash between AcquireLease and the record) go back. This
  // runs before the service takes its name, so no create can be half-way through.
  try {
    lifecycle_.releaseOrphanLeases();
  } catch (const std::exception& error) {
    log::warning(std::string("reconciling leases with org.banger.Net failed: ") + error.what());
  }
  for (const std::string& name : stillBooting) {
    try {
      runJob("start", name, ::getuid(), [this](const MachineRecord& record, JobContext& job) {
        lifecycle_.resumeBoot(record, job);
      });
    } catch (const std::exception& error) {
      log::warning("resuming the boot of " + name + " failed: " + error.what());
    }
  }
}

sdbus::ObjectPath VmManager::runJob(const std::string& operation, const std::string& name,
                                    uint32_t caller,
                                    std::function<void(const MachineRecord&, JobContext&)> work,
                                    AfterJob then) {
  MachineObject& object = machine(name);
  if (auto busy = activeOperations_.find(name); busy != activeOperations_.end())
    fail(ErrorCode::Busy, "machine " + name + " is busy: " + busy->second + " is under way");
  const MachineRecord record = object.record();
  activeOperations_[name] = operation;
  try {
    return jobs_.start(operation, object.getObjectPath(), caller,
                       [this, name, record, work, then, alive = alive_](JobContext& job) {
                         const auto done = [&](std::exception_ptr failure) {
                           context_.loop.post([this, name, then, failure, alive] {
                             if (!*alive) return;
                             activeOperations_.erase(name);
                             if (then) then(failure);
                             afterGuestUp_.erase(name);  // a boot that failed before
                             if (auto waiting = afterOperation_.extract(name))
                               for (const AfterJob& next : waiting.mapped()) next(failure);
                           });
                         };
                         try {
                           work(record, job);
                         } catch (...) {
                           done(std::current_exception());
                           throw;
                         }
                         done(nullptr);
                       });
  } catch (...) {
    activeOperations_.erase(name);
    throw;
  }
}

std::tuple<sdbus::ObjectPath, sdbus::ObjectPath> VmManager::CreateVm(const VariantMap& spec) {
  return guard_("Vm1.Manager.CreateVm", [&] {
    const VmSpec flags = VmSpec::fromVariants(spec, "spec");
    const Config config = loadConfig();
    const ResolvedSpec resolved = resolveSpec(flags, config, host_->facts());
    std::vector<std::string> taken;
    for (const auto& [name, object] : machines_) taken.push_back(name);
    const std::string name = flags.name.value_or(generateMachineName(taken));
    requireVmName(name);
    if (machines_.count(name))
      fail(ErrorCode::AlreadyExists, "a machine named " + name +
                                         " exists; pick another name or "
                                         "delete it first");
    MachineRecord record;
    record.name = name;
    record.id = newMachineId();
    record.state = MachineState::Created;
    record.image = *resolved.spec.image;
    // The image's own kernel unless one was asked for (flag or config).
    if (resolved.provenance.at(spec_keys::kKernel) != "builtin")
      record.kernel = *resolved.spec.kernel;
    record.vcpus = *resolved.spec.vcpus;
    record.memoryMib = *resolved.spec.memoryMib;
    record.diskBytes = *resolved.spec.diskBytes;
    record.nat = *resolved.spec.nat;
    record.cid = lifecycle_.store().freeCid();
    record.createdAtUs = nowUs();
    lifecycle_.store().insert(record);
    machines_[name] = std::make_unique<MachineObject>(context_.connection, record, guard_, *this);
    const bool startIt = *resolved.spec.start;
    try {
      const sdbus::ObjectPath job = runJob("create", name, callerUid(getObject()),
                                           [this, startIt](const MachineRecord& r, JobContext& j) {
                                             lifecycle_.create(r, startIt, j);
                                           });
      return std::make_tuple(MachineObject::pathFor(name), job);
    } catch (...) {
      machines_.erase(name);
      lifecycle_.store().remove(name);
      throw;
    }
  });
}

std::tuple<VariantMap, std::map<std::string, std::string>> VmManager::ResolveSpec(
    const VariantMap& overrides) {
  return guard_("Vm1.Manager.ResolveSpec", [&] {
    const VmSpec flags = VmSpec::fromVariants(overrides, "overrides");
    auto [resolved, provenance] = resolveSpec(flags, loadConfig(), host_->facts());
    return std::make_tuple(resolved.toVariants(), provenance);
  });
}

sdbus::ObjectPath VmManager::FindMachine(const std::string& name) {
  return guard_("Vm1.Manager.FindMachine", [&] { return machine(name).getObjectPath(); });
}

std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> VmManager::ListMachines() {
  return guard_("Vm1.Manager.ListMachines", [&] {
    std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> out;
    for (const auto& [name, object] : machines_)
      out.emplace_back(name, std::string(machineStateName(object->record().state)),
                       object->getObjectPath());
    return out;
  });
}

// Answers once every delete is over, so the names returned are gone, not going.
void VmManager::Prune(sdbus::Result<std::vector<std::string>>&& result, VariantMap options) {
  guardAsync(guard_, context_.loop, "Vm1.Manager.Prune", std::move(result),
             [&](const AsyncReply<std::vector<std::string>>& reply) {
               Options::parse(options, {}, "options");
               std::vector<std::string> doomed;
               for (const auto& [name, object] : machines_)
                 if (!mayBeRunning(object->record().state) && !activeOperations_.count(name))
                   doomed.push_back(name);
               if (doomed.empty()) {
                 reply.succeed({});
                 return;
               }
               struct Tally {
                 size_t left;
                 std::vector<std::string> removed;
                 std::string failures;
               };
               auto tally = std::make_shared<Tally>(Tally{doomed.size(), {}, {}});
               const uint32_t caller = callerUid(getObject());
               for (const std::string& name : doomed) {
                 const auto settle = [reply, tally, name](std::exception_ptr failure) {
                   if (!failure) {
                     tally->removed.push_back(name);
                   } else {
                     try {
                       std::rethrow_exception(failure);
                     } catch (const std::exception& error) {
                       tally->failures += "; " + name + ": " + error.what();
                     }
                   }
                   if (--tally->left > 0) return;
                   if (tally->failures.empty())
                     reply.succeed(tally->removed);
                   else
                     reply.fail(std::make_exception_ptr(
                         Error(ErrorCode::Failed,
                               "pruning left machines behind" + tally->failures +
                                   " (removed: " + std::to_string(tally->removed.size()) + ")")));
                 };
                 try {
                   deleteMachine(name, caller, settle);
                 } catch (...) {
                   settle(std::current_exception());
                 }
               }
             });
}

std::string VmManager::Version() {
  return guard_("Vm1.Manager.Version", [] { return std::string(BANGER_VERSION); });
}

std::string VmManager::DefaultImage() {
  return guard_("Vm1.Manager.DefaultImage",
                [&] { return loadConfig().defaultImage.value_or(kBuiltinImage); });
}

sdbus::ObjectPath VmManager::start(const std::string& name, uint32_t caller) {
  requireStartable(name, machine(name).record().state);
  return runJob("start", name, caller,
                [this](const MachineRecord& r, JobContext& job) { lifecycle_.start(r, job); });
}

sdbus::ObjectPath VmManager::stop(const std::string& name, std::chrono::seconds timeout, bool force,
                                  uint32_t caller) {
  machine(name);
  return runJob("stop", name, caller,
                [this, timeout, force](const MachineRecord& r, JobContext& job) {
                  lifecycle_.stop(r, timeout, force, job);
                });
}

sdbus::ObjectPath VmManager::restart(const std::string& name, uint32_t caller) {
  machine(name);
  return runJob("restart", name, caller, [this](const MachineRecord& r, JobContext& job) {
    lifecycle_.stop(r, std::chrono::seconds(20), false, job);
    auto stopped = lifecycle_.store().find(r.name);
    if (!stopped) fail(ErrorCode::NotFound, "machine " + r.name + " vanished while it stopped");
    lifecycle_.start(*stopped, job);
  });
}

void VmManager::kill(const std::string& name, int signal) {
  const MachineRecord& record = machine(name).record();
  if (record.pid <= 0 || !mayBeRunning(record.state))
    fail(ErrorCode::Busy, "machine " + name + " is " + std::string(machineStateName(record.state)) +
                              "; there is no Firecracker process to signal");
  if (::kill(record.pid, signal) != 0)
    fail(ErrorCode::Failed, "signalling Firecracker (pid " + std::to_string(record.pid) + ") of " +
                                name + " failed: " + std::strerror(errno));
}

sdbus::ObjectPath VmManager::remove(const std::string& name, uint32_t caller) {
  return deleteMachine(name, caller, {});
}

sdbus::ObjectPath VmManager::deleteMachine(const std::string& name, uint32_t caller,
                                           AfterJob then) {
  machine(name);
  return runJob(
      "delete", name, caller,
      [this](const MachineRecord& r, JobContext& job) {
        lifecycle_.destroy(r, job);
        context_.loop.post([this, name = r.name, alive = alive_] {
          if (*alive) machines_.erase(name);
        });
      },
      std::move(then));
}

void VmManager::set(sdbus::Result<>&& result, const std::string& name, const VariantMap& settings) {
  guardAsync(
      guard_, context_.loop, "Vm1.Machine.Set", std::move(result), [&](const AsyncReply<>& reply) {
        const Options parsed = Options::parse(settings,
                                              {{spec_keys::kVcpus, "u"},
                                               {spec_keys::kMemoryMib, "u"},
                                               {spec_keys::kDiskBytes, "t"},
                                               {spec_keys::kNat, "b"}},
                                              "settings");
        const MachineRecord& record = machine(name).record();
        const bool resizes = parsed.has(spec_keys::kVcpus) || parsed.has(spec_keys::kMemoryMib) ||
                             parsed.has(spec_keys::kDiskBytes);
        if (resizes) requireResizable(name, record.state);
        if (activeOperations_.count(name))
          fail(ErrorCode::Busy,
               "machine " + name + " is busy: " + activeOperations_.at(name) + " is under way");
        VmSpec sizes;
        sizes.vcpus = parsed.uint32(spec_keys::kVcpus);
        sizes.memoryMib = parsed.uint32(spec_keys::kMemoryMib);
        sizes.diskBytes = parsed.uint64(spec_keys::kDiskBytes);
        VmSpec::fromVariants(sizes.toVariants(), "settings");  // the spec's bounds
        const bool growsDisks = sizes.diskBytes && *sizes.diskBytes != record.diskBytes;
        const std::optional<bool> nat = parsed.boolean(spec_keys::kNat);
        const bool changesNat = nat && *nat != record.nat;
        if (!growsDisks && !changesNat) {  // bookkeeping only: here and now
          machine(name).update(lifecycle_.setSizes(name, sizes.vcpus, sizes.memoryMib, {}));
          reply.succeed();
          return;
        }
        // Disks grow through e2fsck and resize2fs, NAT through Net (polkit may ask): on a
        // worker, with the machine busy so no start, stop or delete races the change
        // (processEnded still records a Firecracker's end during a NAT change).
        activeOperations_[name] = resizes ? "resizing it" : kChangingNat;
        try {
          context_.pool.submit(
              [this, reply, name, sizes, nat, changesNat, resizes, alive = alive_] {
                std::exception_ptr failure;
                try {
                  if (resizes)
                    lifecycle_.setSizes(name, sizes.vcpus, sizes.memoryMib, sizes.diskBytes);
                  if (changesNat) lifecycle_.setNat(name, *nat);
                } catch (...) {
                  failure = std::current_exception();
                }
                // The machine is free again before the caller hears back: a Start sent right
                // after the reply is never Busy.
                context_.loop.post([this, reply, name, failure, alive] {
                  if (*alive) activeOperations_.erase(name);
                  if (failure)
                    reply.fail(failure);
                  else
                    reply.succeed();
                });
              });
        } catch (...) {
          activeOperations_.erase(name);
          throw;
        }
      });
}

sdbus::UnixFd VmManager::console(const std::string& name) {
  const MachineRecord& record = machine(name).record();
  const std::string path = lifecycle_.pathsOf(record).console().string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    fail(ErrorCode::NotFound, "machine " + name + " has no console log yet (it has not booted)");
  return sdbus::UnixFd(fd, sdbus::adopt_fd);
}

void VmManager::stats(sdbus::Result<VariantMap>&& result, const std::string& name) {
  answerFromWorker(std::move(result), "Vm1.Machine.Stats", name,
                   [](const MachineRecord& record, const MachinePaths& paths) {
                     return machineStats(record, paths);
                   });
}

void VmManager::health(sdbus::Result<bool, std::string>&& result, const std::string& name) {
  answerFromWorker(std::move(result), "Vm1.Machine.Health", name,
                   [this](const MachineRecord& record, const MachinePaths& paths) {
                     return machineHealth(record, paths, lifecycle_.agent());
                   });
}

void VmManager::ports(sdbus::Result<PortRows>&& result, const std::string& name) {
  answerFromWorker(std::move(result), "Vm1.Machine.Ports", name,
                   [this](const MachineRecord& record, const MachinePaths& paths) {
                     return machinePorts(record, paths, lifecycle_.agent());
                   });
}

std::tuple<std::string, std::string, uint16_t, std::string, std::string> VmManager::sshTarget(
    const std::string& name) {
  const MachineRecord& record = machine(name).record();
  if (!record.lease)
    fail(ErrorCode::Busy, "machine " + name + " has no address yet; start it first");
  const SshFiles files = lifecycle_.sshFiles(loadConfig());
  return {"root", record.lease->address, uint16_t{22}, files.identity.string(),
          files.knownHosts.string()};
}

}  // namespace banger::vm
