#include "lifecycle.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <set>
#include <thread>

#include "banger/errors.h"
#include "banger/files.h"
#include "banger/log.h"
#include "banger/size.h"
#include "banger/ssh_command.h"
#include "boot_params.h"
#include "disks.h"
#include "first_login.h"
#include "readiness.h"
#include "ssh_master.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;

// How often the agent and sshd are asked during boot: a refused connection costs
// microseconds, and every tick of waiting adds to the user's wait for `vm run`.
constexpr auto kReadinessPoll = std::chrono::milliseconds(10);
// The boot's first login gives up on connecting this soon and tries again, so a VM that
// cannot be reached still fails at ssh_wait_sec, not 15 s after it.
constexpr int kFirstLoginConnectSec = 3;
using Clock = std::chrono::steady_clock;

uint64_t nowUs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// What a step started beside others gave, waited for after a failure elsewhere: nullopt
// when it was never started or failed itself (then it left nothing behind).
template <typename T>
std::optional<T> cameUp(std::future<T>& step) {
  if (!step.valid()) return std::nullopt;
  try {
    return step.get();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// `configured`: firecracker_bin from config.toml.
std::string firecrackerBinary(const std::optional<std::string>& configured) {
  if (configured) {
    if (::access(configured->c_str(), X_OK) != 0)
      banger::fail(ErrorCode::Unavailable,
                   "firecracker_bin " + *configured + " in config.toml is not an executable file");
    return *configured;
  }
  const char* path = std::getenv("PATH");
  const std::string found = findExecutable("firecracker", path ? path : "/usr/bin:/bin");
  if (found.empty())
    banger::fail(ErrorCode::Unavailable,
                 "Firecracker is not on PATH; install it (banger doctor says how) or set "
                 "firecracker_bin in ~/.config/banger/config.toml");
  return found;
}

// Firecracker's own words when it cannot use KVM (vstate/kvm.rs) get banger's fix.
[[noreturn]] void explainBootFailure(const Error& error) {
  const std::string message = error.what();
  if (message.find("Error creating KVM object") != std::string::npos ||
      message.find("/dev/kvm") != std::string::npos)
    banger::fail(ErrorCode::Unavailable,
                 "Firecracker cannot use /dev/kvm: add yourself to the kvm group (sudo adduser "
                 "$USER kvm) and log in again (" +
                     message + ")");
  throw error;
}

}  // namespace

std::string hostBootId() {
  std::string id = readTextFileIfExists("/proc/sys/kernel/random/boot_id").value_or("");
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

std::string bootArgs(const MachineRecord& record) {
  guest::BootParams params;
  params.baseDevice = "/dev/vda";
  params.overlayDevice = "/dev/vdb";
  params.workDevice = "/dev/vdc";
  params.hostname = record.name;
  if (record.lease) {
    guest::GuestNetwork network{};
    network.address = *Ipv4::parse(record.lease->address);
    network.prefix = record.lease->prefixLen;
    network.gateway = Ipv4::parse(record.lease->gateway);
    for (const std::string& server : record.lease->nameservers)
      if (auto address = Ipv4::parse(server); address && network.nameservers.size() < 3)
        network.nameservers.push_back(*address);
    params.network = network;
  }
  return "console=ttyS0 reboot=k panic=1 " + guest::renderBootParams(params);
}

Lifecycle::Lifecycle(UserPaths paths, Peers peers, Publish publish)
    : paths_(std::move(paths)),
      peers_(std::move(peers)),
      publish_(std::move(publish)),
      store_((fs::create_directories(paths_.stateDir / "vm"), paths_.stateDir / "vm" / "vm.db")) {}

Config Lifecycle::loadConfig() const {
  return banger::loadConfig(paths_.configFile(), paths_.home);
}

MachinePaths Lifecycle::pathsOf(const MachineRecord& record) const {
  return {paths_.stateDir / "vm" / "machines" / record.id, paths_.runtimeDir / "vm" / record.id};
}

SshFiles Lifecycle::sshFiles(const Config& config) const {
  const fs::path identity =
      config.sshKeyPath ? fs::path(*config.sshKeyPath) : paths_.configDir / "ssh" / "id_ed25519";
  return {identity, paths_.configDir / "ssh" / "known_hosts",
          sshConfigPath(paths_.configDir.string())};
}

void Lifecycle::commit(MachineRecord& record) {
  store_.update(record);
  publish_(record);
}

void Lifecycle::fail(MachineRecord& record, const std::string& message) {
  record.state = MachineState::Error;
  record.lastError = message;
  try {
    commit(record);
  } catch (const std::exception& error) {
    log::error("recording the failure of " + record.name + " failed: " + error.what());
  }
}

void Lifecycle::refreshSshFiles(const Config& config) {
  std::lock_guard lock(sshFilesMutex_);
  std::vector<KnownMachine> machines;
  for (const MachineRecord& record : store_.all()) {
    if (!record.lease) continue;  // no address: nothing to reach, nothing to name
    const std::string pub =
        readTextFileIfExists(disksIn(pathsOf(record).dir).overlay.string() + ".hostkey.pub")
            .value_or("");
    machines.push_back({record.name, record.lease->address, pub.substr(0, pub.find('\n'))});
  }
  writeSshFiles(sshFiles(config), machines);
}

void Lifecycle::makeDisks(const MachineRecord& record, const Config& config, const BootSet& set,
                          JobContext& job) {
  job.stage("disks",
            "overlay and work disks of " + std::to_string(record.diskBytes >> 20) + " MiB");
  const std::string userKey = ensureUserKey(sshFiles(config).identity);
  const KeyPair hostKey = generateKeyPair(record.hostname());
  const DiskSet disks = disksIn(pathsOf(record).dir);
  // Two independent files: made side by side.
  std::future<void> overlay = std::async(std::launch::async, [&] {
    createOverlayDisk(disks.overlay, record.diskBytes, hostKey);
    writeFileAtomically(disks.overlay.string() + ".hostkey.pub", hostKey.publicKey + "\n", 0644);
  });
  try {
    createWorkDisk(disks.work, record.diskBytes, set.workSeed, userKey, config.fileSync,
                   [&](const std::string& warning) { job.stage("disks", warning); });
  } catch (...) {
    overlay.wait();
    throw;
  }
  overlay.get();
}

void Lifecycle::create(MachineRecord record, bool start, JobContext& job) {
  std::future<MachineLease> lease;
  std::future<pid_t> firecracker;
  try {
    const Config config = loadConfig();
    job.stage("resolve", record.name);
    const MachinePaths where = pathsOf(record);
    fs::create_directories(where.dir);

    // A lease (a TAP and an address) is held only while the machine runs. Asking Net for
    // it is mostly waiting (the system bus, polkit, netlink), and Firecracker needs neither
    // the image, the lease nor the disks until it is configured: both come up while the
    // image is found (Image may be starting itself) and the disks are made.
    if (start) {
      job.stage("network", record.nat ? "lease with NAT" : "lease");
      lease = std::async(std::launch::async, [this, id = record.id, nat = record.nat] {
        return peers_.net->acquire(id, nat);
      });
      firecracker = launchFirecracker(record, config);
    }

    job.stage("image", record.image);
    const BootSet set = peers_.image->resolve(
        record.image, record.kernel,
        [&](const PullProgress& progress) {
          job.stage("image", progress.detail);
          job.progress(progress.completed, progress.total);
        },
        job.cancelFlag());
    record.image = set.image;
    record.kernel = set.kernel;
    commit(record);
    job.throwIfCanceled();

    makeDisks(record, config, set, job);
    if (lease.valid()) {
      record.lease = lease.get();
      commit(record);
    }
    refreshSshFiles(config);
    job.throwIfCanceled();

    record.state = MachineState::Stopped;
    if (!start) {
      commit(record);
      return;
    }
    boot(record, firecracker.get(), set, job);
    waitReady(record, config, job);
  } catch (const std::exception& error) {
    // What came up meanwhile is the record's now, so windDown gives it back.
    if (auto held = cameUp(lease)) record.lease = held;
    if (auto pid = cameUp(firecracker)) record.pid = *pid;
    windDown(record);
    fail(record, error.what());
    throw;
  }
}

void Lifecycle::start(MachineRecord record, JobContext& job) {
  std::future<pid_t> firecracker;
  try {
    const Config config = loadConfig();
    job.stage("resolve", record.name);
    firecracker = launchFirecracker(record, config);
    acquireLease(record, config, job);
    job.stage("disks", "file_sync");
    provisionWorkDisk(disksIn(pathsOf(record).dir).work, ensureUserKey(sshFiles(config).identity),
                      config.fileSync,
                      [&](const std::string& warning) { job.stage("disks", warning); });
    // The image and kernel may have been pulled again or replaced since the last start.
    const BootSet set = peers_.image->resolve(record.image, record.kernel, {}, job.cancelFlag());
    boot(record, firecracker.get(), set, job);
    waitReady(record, config, job);
  } catch (const std::exception& error) {
    if (auto pid = cameUp(firecracker)) record.pid = *pid;  // so windDown ends it
    windDown(record);
    fail(record, error.what());
    throw;
  }
}

void Lifecycle::resumeBoot(MachineRecord record, JobContext& job) {
  try {
    waitReady(record, loadConfig(), job);
  } catch (const std::exception& error) {
    windDown(record);
    fail(record, error.what());
    throw;
  }
}

void Lifecycle::acquireLease(MachineRecord& record, const Config& config, JobContext& job) {
  job.stage("network", record.nat ? "lease with NAT" : "lease");
  record.lease = peers_.net->acquire(record.id, record.nat);
  commit(record);
  refreshSshFiles(config);
  job.throwIfCanceled();
}

void Lifecycle::releaseLease(MachineRecord& record) {
  if (!record.lease) return;
  try {
    peers_.net->release(record.id);
  } catch (const Error& error) {
    // Already gone on Net's side (released by an earlier attempt): nothing to give back.
    if (error.code() != ErrorCode::NotFound) throw;
  }
  record.lease.reset();
  commit(record);
  refreshSshFiles(loadConfig());
}

void Lifecycle::windDown(MachineRecord& record) {
  if (record.pid > 0) endProcess(record, std::chrono::seconds(0), true);
  try {
    releaseLease(record);
  } catch (const std::exception& error) {
    log::warning("releasing the lease of " + record.name + " failed: " + error.what() +
                 "; the next start of the service releases it");
  }
}

void Lifecycle::endSshMaster(const MachineRecord& record) {
  const std::string control = sshControlPath(paths_.runtimeDir.string(), record.id);
  if (!vm::endSshMaster(control, std::chrono::seconds(1)))
    log::warning("the ssh master of " + record.name + " (" + control +
                 ") did not end within 1 s of being asked to");
}

std::future<pid_t> Lifecycle::launchFirecracker(const MachineRecord& record, const Config& config) {
  const MachinePaths where = pathsOf(record);
  endSshMaster(record);  // one from an earlier boot would carry sessions to nothing
  fs::create_directories(where.runtimeDir);
  fs::permissions(where.runtimeDir, fs::perms::owner_all);
  // Firecracker binds both sockets and refuses paths that exist (NOTES §1, §4).
  for (const fs::path& stale : {where.apiSocket(), where.vsockSocket()}) fs::remove(stale);

  LaunchRequest launch;
  launch.unitName = "banger-vm-" + record.name + ".service";
  launch.description = "VM " + record.name;
  launch.argv = {"", "--api-sock", where.apiSocket().string(), "--id", record.id};
  launch.logFile = where.firecrackerLog().string();
  launch.apiSocket = where.apiSocket().string();
  // A missing Firecracker fails the boot as before, after the disks are made: a later
  // start, once it is installed, finds them.
  return std::async(std::launch::async, [this, configured = config.firecrackerBin,
                                         launch = std::move(launch)]() mutable {
    launch.argv.front() = firecrackerBinary(configured);
    return peers_.launcher->launch(launch);
  });
}

void Lifecycle::boot(MachineRecord& record, pid_t firecracker, const BootSet& set,
                     JobContext& job) {
  job.stage("boot", "firecracker");
  const MachinePaths where = pathsOf(record);
  const DiskSet disks = disksIn(where.dir);
  record.state = MachineState::Starting;
  record.lastError.clear();
  record.hostBootId = hostBootId();
  record.guestBootId.clear();
  record.pid = firecracker;
  record.startedAtUs = nowUs();
  commit(record);

  FirecrackerConfig fc;
  fc.vcpus = record.vcpus;
  fc.memoryMib = record.memoryMib;
  fc.kernel = set.vmlinux;
  fc.initrd = set.initrd;
  fc.bootArgs = bootArgs(record);
  fc.drives = {{"base", set.rootfs, true, true},
               {"overlay", disks.overlay.string(), false, false},
               {"work", disks.work.string(), false, false}};
  if (record.lease) fc.nic = FirecrackerNic{record.lease->tap, record.lease->mac};
  fc.vsockCid = record.cid;
  fc.vsockPath = where.vsockSocket().string();
  fc.consolePath = where.console().string();
  fc.logPath = "";  // stdout and stderr already go to firecracker.log
  // A fresh console log per boot, so `vm logs` shows this boot.
  writeFileAtomically(where.console(), "", 0600, Durability::Regenerable);
  try {
    peers_.firecracker->boot(where.apiSocket().string(), fc);
  } catch (const Error& error) {
    explainBootFailure(error);
  }
}

void Lifecycle::waitReady(MachineRecord& record, const Config& config, JobContext& job) {
  const auto waitFor = std::chrono::seconds(config.sshWaitSec.value_or(90));
  const auto deadline = Clock::now() + waitFor;
  const MachinePaths where = pathsOf(record);
  const std::string timeoutMessage = "ssh did not come up within " +
                                     std::to_string(waitFor.count()) + " s; see `banger vm logs " +
                                     record.name + "`";
  job.stage("agent", "waiting for banger-agent over vsock");
  for (;;) {
    job.throwIfCanceled();
    if (!processAlive(record.pid))
      banger::fail(ErrorCode::Failed, "Firecracker ended during boot; see `banger vm logs " +
                                          record.name +
                                          "`: " + tailOf(where.console().string(), 3));
    try {
      record.guestBootId = peers_.agent->health(where.vsockSocket().string(), false).bootId;
      break;
    } catch (const Error&) {
      if (Clock::now() > deadline) banger::fail(ErrorCode::Timeout, timeoutMessage);
      std::this_thread::sleep_for(kReadinessPoll);
    }
  }
  commit(record);
  const std::string& address = record.lease->address;
  job.stage("ssh", "waiting for sshd on " + address + ":22");
  // The first login proves sshd ready (first_login.h); it is tried at once, since banger's
  // images start sshd before the agent. Until it works, the agent is asked whether sshd
  // listens before each new try, and the banner where the agent cannot say, or where a
  // login failed although sshd listens.
  const std::vector<std::string> ssh = guestSshCommand(record, sshFiles(config), paths_.runtimeDir);
  const std::string control = sshControlPath(paths_.runtimeDir.string(), record.id);
  const auto stageStart = Clock::now();
  for (bool first = true;; first = false) {
    job.throwIfCanceled();
    bool tryLogin = first;
    if (!first) {
      const std::optional<bool> listens = sshdListens(*peers_.agent, where.vsockSocket().string());
      tryLogin = listens ? *listens : sshAnswers(address, 22, std::chrono::milliseconds(1000));
    }
    if (tryLogin) {
      if (sshMasterListens(control)) break;  // a boot resumed after a restart made it
      const LoginOutcome login =
          logInOnce(programs(), ssh, kFirstLoginConnectSec, job.cancelFlag());
      job.throwIfCanceled();
      if (login.loggedIn) break;
      if (sshAnswers(address, 22, std::chrono::milliseconds(1000))) {
        log::warning("the first ssh login to " + record.name + " failed (" + login.why +
                     "); its sshd answers, so it is running: `banger vm ssh " + record.name +
                     "` tries again");
        break;
      }
    }
    if (Clock::now() > deadline) banger::fail(ErrorCode::Timeout, timeoutMessage);
    // Often at first; an image that installs sshd at its first boot takes a while.
    std::this_thread::sleep_for(Clock::now() - stageStart < std::chrono::seconds(1)
                                    ? kReadinessPoll
                                    : std::chrono::milliseconds(100));
  }
  record.state = MachineState::Running;
  commit(record);
}

void Lifecycle::endProcess(MachineRecord& record, std::chrono::seconds timeout, bool force) {
  const MachinePaths where = pathsOf(record);
  if (record.pid > 0 && processAlive(record.pid)) {
    if (!force) {
      try {
        peers_.firecracker->sendCtrlAltDel(where.apiSocket().string());
      } catch (const Error& error) {
        log::warning("SendCtrlAltDel to " + record.name + " failed: " + error.what());
      }
      awaitExit(record.pid, timeout);
    }
    if (processAlive(record.pid)) ::kill(record.pid, SIGKILL);
    awaitExit(record.pid, std::chrono::seconds(5));
  }
  std::error_code ignored;
  fs::remove(where.apiSocket(), ignored);
  fs::remove(where.vsockSocket(), ignored);
  record.pid = 0;
}

void Lifecycle::stop(MachineRecord record, std::chrono::seconds timeout, bool force,
                     JobContext& job) {
  job.stage("stop", force ? "SIGKILL" : "SendCtrlAltDel");
  record.state = MachineState::Stopping;
  commit(record);
  endProcess(record, timeout, force);
  record.state = MachineState::Stopped;
  commit(record);
  job.stage("network", "release");
  releaseLease(record);
}

void Lifecycle::destroy(MachineRecord record, JobContext& job) {
  job.stage("stop", "SIGKILL");
  // The ssh master goes first, while the guest can still answer its goodbye. Ended after
  // the guest, its connection kept retransmitting to the dead address, the host's ARP
  // entry for it failed, and the next VM given that address waited a second for its
  // first SYN.
  endSshMaster(record);
  endProcess(record, std::chrono::seconds(0), true);
  job.stage("network", "release");
  releaseLease(record);
  job.stage("disks", "remove");
  const MachinePaths where = pathsOf(record);
  removeTreeOnThisFilesystem(where.dir);
  removeTreeOnThisFilesystem(where.runtimeDir);
  store_.remove(record.name);
  refreshSshFiles(loadConfig());
}

std::optional<MachineRecord> Lifecycle::processEnded(const std::string& name, pid_t pid,
                                                     int exitCode) {
  std::lock_guard lock(recordChangeMutex_);
  std::optional<MachineRecord> record = store_.find(name);
  if (!record || record->pid != pid) return std::nullopt;
  std::error_code ignored;
  fs::remove(pathsOf(*record).apiSocket(), ignored);
  fs::remove(pathsOf(*record).vsockSocket(), ignored);
  record->pid = 0;
  if (exitCode == 0 || record->state == MachineState::Stopping) {
    record->state = MachineState::Stopped;
  } else {
    record->state = MachineState::Error;
    record->lastError = "Firecracker exited with status " + std::to_string(exitCode) +
                        "; see `banger vm logs " + record->name + "`";
  }
  store_.update(*record);
  return record;
}

void Lifecycle::cleanUpAfterProcess(MachineRecord& record) {
  const MachinePaths where = pathsOf(record);
  if (const pid_t orphan = socketOwner(where.apiSocket().string()); orphan > 0) {
    log::warning("machine " + record.name + ": killing Firecracker pid " + std::to_string(orphan) +
                 " that holds its API socket but is not recorded");
    ::kill(orphan, SIGKILL);
  }
  std::error_code ignored;
  fs::remove(where.apiSocket(), ignored);
  fs::remove(where.vsockSocket(), ignored);
  const DiskSet disks = disksIn(where.dir);
  fs::remove(disks.overlay.string() + ".partial", ignored);
  fs::remove(disks.work.string() + ".partial", ignored);
  for (const fs::path& disk : {disks.overlay, disks.work}) {
    try {
      if (rollBackInterruptedGrowth(disk, record.diskBytes))
        log::warning("machine " + record.name + ": rolled back the interrupted growth of " +
                     disk.string());
    } catch (const std::exception& error) {
      log::error("machine " + record.name + ": " + error.what());
    }
  }
  record.pid = 0;
}

void Lifecycle::releaseOrphanLeases() {
  std::vector<MachineRecord> records = store_.all();
  if (records.empty()) return;  // no machine ever got as far as Net: nothing to ask it
  std::set<std::string> held;
  for (MachineRecord& record : records) {
    if (record.lease && !mayBeRunning(record.state)) {
      log::info("machine " + record.name + " is not running: releasing its lease");
      releaseLease(record);
    }
    if (record.lease) held.insert(record.id);
  }
  for (const std::string& id : peers_.net->leasedMachineIds()) {
    if (held.count(id)) continue;
    log::info("releasing the lease of " + id + ", which no running machine holds");
    peers_.net->release(id);
  }
}

void Lifecycle::setNat(const std::string& name, bool enabled) {
  std::optional<MachineRecord> record = store_.find(name);
  if (!record) banger::fail(ErrorCode::NotFound, "no machine named " + name);
  if (record->lease) peers_.net->setNat(record->id, enabled);
  std::lock_guard lock(recordChangeMutex_);
  record = store_.find(name);  // the freshest record, changed only in what Set changes
  if (!record) banger::fail(ErrorCode::NotFound, "machine " + name + " was deleted meanwhile");
  record->nat = enabled;
  commit(*record);
}

MachineRecord Lifecycle::setSizes(const std::string& name, std::optional<uint32_t> vcpus,
                                  std::optional<uint32_t> memoryMib,
                                  std::optional<uint64_t> diskBytes) {
  std::optional<MachineRecord> record = store_.find(name);
  if (!record) banger::fail(ErrorCode::NotFound, "no machine named " + name);
  if (diskBytes && *diskBytes < record->diskBytes)
    banger::fail(ErrorCode::InvalidArgument, "disk_bytes can only grow: the disks of " + name +
                                                 " are " + formatSize(record->diskBytes) +
                                                 ", and a smaller size would cut off data");
  if (diskBytes && *diskBytes > record->diskBytes) {
    // The record changes last: until then it names the size a rollback returns to.
    const DiskSet disks = disksIn(pathsOf(*record).dir);
    for (const fs::path& disk : {disks.overlay, disks.work})
      if (fs::exists(disk)) growDisk(disk, *diskBytes);  // a missing one is made at start
    record->diskBytes = *diskBytes;
  }
  if (vcpus) record->vcpus = *vcpus;
  if (memoryMib) record->memoryMib = *memoryMib;
  commit(*record);
  return *record;
}

bool Lifecycle::stillRunning(const MachineRecord& record) {
  if (record.pid <= 0 || record.hostBootId != hostBootId() || !processAlive(record.pid))
    return false;
  const auto instance = peers_.firecracker->describe(pathsOf(record).apiSocket().string());
  // "Not started": the service was killed before InstanceStart; no guest will ever come up.
  return instance && instance->id == record.id && instance->state != "Not started";
}

}  // namespace banger::vm
