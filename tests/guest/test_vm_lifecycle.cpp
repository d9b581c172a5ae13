// The Vm service end to end, as a user meets it: org.banger.Vm activated on the test's
// session bus, Net on its system bus (in a network namespace of the test's own), the
// default image and kernel registered with Image, and firecracker-sim as firecracker_bin,
// so the real guest boots and the service really reaches its agent and sshd.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "banger/files.h"
#include "harness.h"
#include "stalling_proxy.h"
#include "tar_builder.h"
#include "test_registry.h"
#include "vm_lifecycle_fixture.h"

namespace banger::test {
namespace {

TEST_F(VmLifecycle, CreateReachesRunningSshWorksWithThePinnedKeyAndDeleteLeavesNothing) {
  std::mutex mutex;
  std::vector<std::string> states;
  std::vector<std::string> objectSignals;
  auto watcher = harness_->connectSession();
  auto stateMatch = watcher->addMatch(
      "type='signal',sender='org.banger.Vm',interface='org.freedesktop.DBus.Properties',"
      "member='PropertiesChanged',path='/org/banger/Vm/machine/alpha'",
      [&](sdbus::Message& message) {
        std::string interface;
        VariantMap changed;
        message >> interface >> changed;
        if (auto it = changed.find("State"); it != changed.end()) {
          std::lock_guard lock(mutex);
          states.push_back(it->second.get<std::string>());
        }
      });
  auto objectMatch = watcher->addMatch(
      "type='signal',sender='org.banger.Vm',interface='org.freedesktop.DBus.ObjectManager'",
      [&](sdbus::Message& message) {
        sdbus::ObjectPath path;
        message >> path;
        if (path == "/org/banger/Vm/machine/alpha") {
          std::lock_guard lock(mutex);
          objectSignals.push_back(message.getMemberName());
        }
      });
  watcher->enterEventLoopAsync();

  sdbus::ObjectPath machine, job;
  std::tie(machine, job) = createVm(VariantMap{{"name", sdbus::Variant(std::string("alpha"))},
                                               {"memory_mib", sdbus::Variant(uint32_t{512})},
                                               {"disk_bytes", sdbus::Variant(uint64_t{2} << 30)}});
  EXPECT_EQ(std::string(machine), "/org/banger/Vm/machine/alpha");
  const std::string id = machineProperty<std::string>(machine, "Id");
  ASSERT_EQ(waitJob(job), "succeeded") << consoleOf(id);
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "running");
  const std::string address = machineProperty<std::string>(machine, "Address");
  EXPECT_FALSE(address.empty());
  EXPECT_EQ(machineProperty<std::string>(machine, "Hostname"), "alpha.vm");
  EXPECT_GT(machineProperty<uint32_t>(machine, "Pid"), 0u);
  EXPECT_EQ(machineProperty<uint64_t>(machine, "DiskBytes"), uint64_t{2} << 30);

  // `running` means logged in (docs/vm.md): the boot's first login left the master
  // connection that sessions share, without a probe connection of its own to sshd, which
  // would show in sshd's log as a client that left before the key exchange.
  const fs::path control = harness_->root() / "run" / "vm" / id / "ssh.ctl";
  const Shell master = shell("ssh -O check -o ControlPath='" + control.string() + "' alpha.vm");
  EXPECT_EQ(master.status, 0) << master.out;
  EXPECT_NE(master.out.find("Master running"), std::string::npos) << master.out;
  const Shell sshdLog =
      ssh("alpha.vm",
          "journalctl -b -u ssh -o cat --no-pager | grep -c -e kex_exchange_identification -e "
          "\"Connection closed by\" -e \"Connection reset by\"; journalctl -b -u ssh -o cat "
          "--no-pager | grep -c \"Accepted publickey\"");
  EXPECT_EQ(sshdLog.out, "0\n2\n") << "probes, then logins (the boot's and this one)";

  // No prompt, no TOFU: the host key was pinned before the VM first booted.
  const Shell id0 = ssh("alpha.vm", "id -u; hostname; sshd -T 2>/dev/null | grep -i strictmodes");
  EXPECT_EQ(id0.status, 0) << id0.out << consoleOf(id);
  EXPECT_NE(id0.out.find("0\nalpha\nstrictmodes yes"), std::string::npos) << id0.out;
  // X25519 first (docs/ssh.md): OpenSSH's hybrid default cost 100 ms of CPU per login.
  const Shell kex = ssh("-v alpha.vm", "true");
  EXPECT_NE(kex.out.find("kex: algorithm: curve25519-sha256"), std::string::npos) << kex.out;

  // Observing it: its Firecracker's resources, the agent's health, its ports (sshd on
  // both stacks folded into one; a web server the test starts gets its url).
  auto proxy = sdbus::createProxy(*bus_, kVm, machine);
  VariantMap stats;
  proxy->callMethod("Stats").onInterface(kMachine).storeResultsTo(stats);
  EXPECT_EQ(stats.at("state").get<std::string>(), "running");
  EXPECT_EQ(stats.at("pid").get<uint32_t>(), machineProperty<uint32_t>(machine, "Pid"));
  EXPECT_GT(stats.at("rss_bytes").get<uint64_t>(), 0u);
  EXPECT_GT(stats.at("uptime_sec").get<double>(), 0.0);
  EXPECT_GT(stats.at("work_disk_bytes").get<uint64_t>(), 0u);
  EXPECT_LT(stats.at("work_disk_bytes").get<uint64_t>(), uint64_t{1} << 30);  // sparse
  bool healthy = false;
  std::string detail;
  proxy->callMethod("Health").onInterface(kMachine).storeResultsTo(healthy, detail);
  EXPECT_TRUE(healthy) << detail;
  EXPECT_NE(detail.find("agent ok"), std::string::npos) << detail;
  ASSERT_EQ(ssh("alpha",
                "echo "
                "dXNlIElPOjpTb2NrZXQ6OklORVQ7Cm15ICRzID0gSU86OlNvY2tldDo6SU5FVC0+"
                "bmV3KExvY2FsQWRkciA9PiAiMC4wLjAuMCIsIExvY2FsUG9ydCA9PiA4MDgwLCBMaXN0ZW4gPT4gNSwgUm"
                "V1c2VBZGRyID0+"
                "IDEpIG9yIGRpZTsKd2hpbGUgKG15ICRjID0gJHMtPmFjY2VwdCkgeyB3aGlsZSAoPCRjPikgeyBsYXN0IG"
                "lmIC9eXHI/"
                "JC8gfSBwcmludCAkYyAiSFRUUC8xLjAgMjAwIE9LXHJcbkNvbnRlbnQtTGVuZ3RoOiAyXHJcblxyXG5vay"
                "I7IGNsb3NlICRjIH0K | base64 -d > /tmp/web.pl && (nohup perl /tmp/web.pl "
                ">/dev/null 2>&1 &) && sleep 0.5 && echo up")
                .out,
            "up\n");
  std::vector<sdbus::Struct<std::string, std::string, uint16_t, std::string, uint32_t, std::string>>
      ports;
  proxy->callMethod("Ports").onInterface(kMachine).storeResultsTo(ports);
  std::map<uint16_t, std::tuple<std::string, std::string, std::string>> byPort;
  for (const auto& p : ports)
    if (p.get<0>() == "tcp") byPort[p.get<2>()] = {p.get<1>(), p.get<3>(), p.get<5>()};
  ASSERT_TRUE(byPort.count(22)) << ::testing::PrintToString(ports.size());
  EXPECT_EQ(std::get<0>(byPort[22]), "*");
  EXPECT_EQ(std::get<1>(byPort[22]), "sshd");
  EXPECT_EQ(std::get<2>(byPort[22]), "");
  ASSERT_TRUE(byPort.count(8080));
  EXPECT_EQ(std::get<2>(byPort[8080]), "http://alpha.vm:8080");

  // Stop and start again: the lease goes back while it is stopped; the pinned key still
  // matches whatever address it gets next.
  ASSERT_EQ(waitJob(call(machine, "Stop", VariantMap{})), "succeeded");
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "stopped");
  EXPECT_EQ(machineProperty<uint32_t>(machine, "Pid"), 0u);
  EXPECT_EQ(machineProperty<std::string>(machine, "Address"), "");
  const auto whileStopped = leasedIds();
  EXPECT_EQ(std::count(whileStopped.begin(), whileStopped.end(), id), 0);
  ASSERT_EQ(waitJob(call(machine, "Start", std::nullopt)), "succeeded") << consoleOf(id);
  EXPECT_FALSE(machineProperty<std::string>(machine, "Address").empty());
  EXPECT_EQ(ssh("alpha", "echo again").out, "again\n");

  // The master the boot left runs on its own (ControlPersist); Delete ends it too.
  const Shell again = shell("ssh -O check -o ControlPath='" + control.string() + "' alpha.vm");
  std::smatch pid;
  ASSERT_TRUE(std::regex_search(again.out, pid, std::regex(R"(pid=(\d+))"))) << again.out;
  const pid_t masterPid = std::stoi(pid[1]);
  ASSERT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
  // Gone, or a zombie its new parent has not reaped yet (ControlPersist made it an orphan).
  const auto ended = [&] {
    std::ifstream in("/proc/" + std::to_string(masterPid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    return stat.empty() || stat.find(") Z ") != std::string::npos;
  };
  EXPECT_TRUE(waitFor(ended, 1s)) << "the ssh master " << masterPid << " outlived its VM";
  EXPECT_TRUE(waitFor(
      [&] {
        std::lock_guard lock(mutex);
        return !objectSignals.empty() && objectSignals.back() == "InterfacesRemoved";
      },
      5s));
  watcher->leaveEventLoop();
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(objectSignals.front(), "InterfacesAdded");
    // Each state in order, as a desktop integration following the signals sees them.
    std::vector<std::string> expected = {"starting", "running",  "stopping",
                                         "stopped",  "starting", "running"};
    std::vector<std::string> seen;
    for (const std::string& s : states)
      if (seen.empty() || seen.back() != s) seen.push_back(s);
    seen.resize(std::min(seen.size(), expected.size()));
    EXPECT_EQ(seen, expected);
  }
  EXPECT_THROW(manager_->callMethod("FindMachine")
                   .onInterface("org.banger.Vm1.Manager")
                   .withArguments(std::string("alpha"))
                   .storeResultsTo(machine),
               sdbus::Error);
  EXPECT_FALSE(fs::exists(harness_->root() / "state" / "vm" / "machines" / id));
  const auto leases = leasedIds();
  EXPECT_EQ(std::count(leases.begin(), leases.end(), id), 0);
}

TEST_F(VmLifecycle, ARunningVmSurvivesAKillOfTheServiceAndIsReadopted) {
  sdbus::ObjectPath machine, job;
  std::tie(machine, job) = createVm(VariantMap{{"name", sdbus::Variant(std::string("beta"))},
                                               {"memory_mib", sdbus::Variant(uint32_t{512})}});
  ASSERT_EQ(waitJob(job), "succeeded");
  const uint32_t pid = machineProperty<uint32_t>(machine, "Pid");
  const pid_t service = nameOwnerPid(*bus_, "org.banger.Vm");
  ASSERT_EQ(::kill(service, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] { return !nameHasOwner(*bus_, "org.banger.Vm"); }, 10s));
  // The next call activates the service again; it finds its Firecracker still running.
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "running");
  EXPECT_EQ(machineProperty<uint32_t>(machine, "Pid"), pid);
  EXPECT_NE(nameOwnerPid(*bus_, "org.banger.Vm"), service);
  EXPECT_EQ(ssh("beta", "echo still here").out, "still here\n");
  ASSERT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
  EXPECT_NE(::kill(static_cast<pid_t>(pid), 0), 0);  // no orphan Firecracker
}

TEST_F(VmLifecycle, AKillOfTheServiceDuringEachCreateStageLeavesNoLeakedLeaseOrProcess) {
  for (const std::string stage : {"resolve", "image", "network", "disks", "boot", "agent", "ssh"}) {
    SCOPED_TRACE(stage);
    const std::string name = "crash-" + stage;
    std::mutex mutex;
    bool reached = false;
    auto watcher = harness_->connectSession();
    auto match = watcher->addMatch(
        "type='signal',sender='org.banger.Vm',interface='org.banger.Job1',member='StageChanged'",
        [&](sdbus::Message& message) {
          std::string seen, detail;
          message >> seen >> detail;
          std::lock_guard lock(mutex);
          if (seen == stage) reached = true;
        });
    watcher->enterEventLoopAsync();
    sdbus::ObjectPath machine, job;
    std::tie(machine, job) = createVm(
        VariantMap{{"name", sdbus::Variant(name)}, {"memory_mib", sdbus::Variant(uint32_t{512})}});
    const std::string id = machineProperty<std::string>(machine, "Id");
    ASSERT_TRUE(waitFor(
        [&] {
          std::lock_guard lock(mutex);
          return reached;
        },
        120s));
    const pid_t service = nameOwnerPid(*bus_, "org.banger.Vm");
    ASSERT_EQ(::kill(service, SIGKILL), 0);
    watcher->leaveEventLoop();
    ASSERT_TRUE(waitFor([&] { return !nameHasOwner(*bus_, "org.banger.Vm"); }, 10s));
    // Activated again: the machine is either still coming up under its Firecracker (and
    // was re-adopted: `starting` until its sshd answers, then `running`) or marked failed;
    // nothing of it runs unrecorded.
    std::string state;
    EXPECT_TRUE(waitFor(
        [&] {
          state = machineProperty<std::string>(machine, "State");
          return state != "starting";
        },
        120s));
    EXPECT_TRUE(state == "error" || state == "running") << state;
    if (state == "running") {
      EXPECT_EQ(ssh(name, "true").status, 0) << "re-adopted running before sshd answered";
    }
    const uint32_t pid = machineProperty<uint32_t>(machine, "Pid");
    const fs::path dir = harness_->root() / "state" / "vm" / "machines" / id;
    EXPECT_EQ(shell("ls '" + dir.string() + "' | grep partial").out, "") << "a half-made disk";
    if (state == "error") {
      EXPECT_EQ(pid, 0u);
      EXPECT_EQ(shell("pgrep -f '[f]irecracker-sim.*" + id + "'").status, 1) << "an orphan runs";
    }
    // Net's leases agree with the records: the machine's lease is there only if it has an
    // address, and nobody else's lingers.
    EXPECT_TRUE(waitFor(
        [&] {
          const auto ids = leasedIds();
          const bool has = std::count(ids.begin(), ids.end(), id) == 1;
          return has == !machineProperty<std::string>(machine, "Address").empty();
        },
        10s));
    ASSERT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
    const auto ids = leasedIds();
    EXPECT_EQ(std::count(ids.begin(), ids.end(), id), 0);
    EXPECT_FALSE(fs::exists(dir));
  }
}

// The same life through the CLI, run in the daemons' network namespace as a user's shell
// would be on a real host; banger-dns answers the name while the machine runs.
TEST_F(VmLifecycle, TheCliCreatesSshesIntoStopsAndDeletesAndDnsFollows) {
  const auto dig = [&](const std::string& name) {
    return shell("nsenter --net=/run/netns/" + harness_->netns() + " dig @127.0.0.1 -p " +
                 std::to_string(harness_->dnsPort()) + " +time=2 +tries=1 " + name + " A");
  };
  Shell r = banger("vm create --name cli-box --memory 512");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("spec: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("cli-box is running at "), std::string::npos) << r.out;
  r = banger("vm list");
  EXPECT_NE(r.out.find("cli-box\trunning"), std::string::npos) << r.out;
  r = banger("vm ssh cli-box -- id");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.rfind("uid=0(root)", 0), 0u) << r.out;
  EXPECT_EQ(banger("vm ssh cli-box -- exit 7").status, 7);
  EXPECT_NE(banger("vm logs cli-box").out.find("banger-init: / is the overlay"), std::string::npos);
  r = banger("vm stats cli-box");
  EXPECT_NE(r.out.find("state: running"), std::string::npos) << r.out;
  r = banger("vm ports cli-box --json");
  EXPECT_NE(r.out.find("\"process\": \"sshd\""), std::string::npos) << r.out;

  // banger-dns (activated by this first call) follows the machine through the Vm
  // service's signals.
  auto dns = sdbus::createProxy(*bus_, "org.banger.Dns", "/org/banger/Dns");
  std::vector<sdbus::Struct<std::string, std::string>> records;
  dns->callMethod("ListRecords").onInterface("org.banger.Dns1.Manager").storeResultsTo(records);
  EXPECT_TRUE(waitFor(
      [&] { return dig("cli-box.vm").out.find("status: NOERROR") != std::string::npos; }, 10s))
      << dig("cli-box.vm").out;

  r = banger("vm stop cli-box");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("cli-box stopped"), std::string::npos) << r.out;
  EXPECT_TRUE(waitFor(
      [&] { return dig("cli-box.vm").out.find("status: NXDOMAIN") != std::string::npos; }, 10s))
      << dig("cli-box.vm").out;
  r = banger("vm delete cli-box");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("cli-box deleted"), std::string::npos) << r.out;
  EXPECT_EQ(banger("vm show cli-box").status, 1);
}

TEST_F(VmLifecycle, TwentyConcurrentCreatesAllRunWithTheirOwnAddressesAndCids) {
  constexpr int kCount = 20;
  std::vector<std::pair<sdbus::ObjectPath, sdbus::ObjectPath>> made;
  for (int i = 0; i < kCount; ++i) {
    sdbus::ObjectPath machine, job;
    std::tie(machine, job) =
        createVm(VariantMap{{"name", sdbus::Variant("many-" + std::to_string(i))},
                            {"memory_mib", sdbus::Variant(uint32_t{256})}});
    made.emplace_back(machine, job);
  }
  std::set<std::string> addresses;
  for (const auto& [machine, job] : made) {
    EXPECT_EQ(waitJob(job), "succeeded") << std::string(machine);
    EXPECT_EQ(machineProperty<std::string>(machine, "State"), "running");
    addresses.insert(machineProperty<std::string>(machine, "Address"));
  }
  EXPECT_EQ(addresses.size(), static_cast<size_t>(kCount));
  // The CIDs, from the service's own records.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((harness_->root() / "state" / "vm" / "vm.db").c_str(), &db,
                            SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(DISTINCT cid), count(*) FROM machine", -1, &statement,
                     nullptr);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), kCount);
  EXPECT_EQ(sqlite3_column_int(statement, 1), kCount);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  for (const auto& [machine, job] : made)
    EXPECT_EQ(sdbus::createProxy(*bus_, kVm, machine)
                  ->getProperty("Name")
                  .onInterface(kMachine)
                  .get<std::string>()
                  .rfind("many-", 0),
              0u);
  std::vector<std::string> removed;
  manager_->callMethod("Prune")
      .onInterface("org.banger.Vm1.Manager")
      .withArguments(VariantMap{})
      .storeResultsTo(removed);
  EXPECT_TRUE(removed.empty()) << "Prune removed running machines";
  std::vector<sdbus::ObjectPath> deletes;
  for (const auto& [machine, job] : made) deletes.push_back(call(machine, "Delete", VariantMap{}));
  for (const auto& job : deletes) EXPECT_EQ(waitJob(job), "succeeded");
  EXPECT_TRUE(leasedIds().empty());
}

// file_sync at create: a file with the entry's mode, a directory whole, a missing host
// path only warned about; then Prune takes what is not running.
TEST_F(VmLifecycle, FileSyncEntriesArriveAndPruneRemovesWhatIsNotRunning) {
  const fs::path home = harness_->root() / "sync";
  fs::create_directories(home / "tool");
  writeFile(home / "gitconfig", "[user]\n\tname = me\n");
  writeFile(home / "tool" / "run.sh", "#!/bin/sh\necho tool\n");
  fs::permissions(home / "tool" / "run.sh", fs::perms(0755));
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  writeFile(config, before + "\n[[file_sync]]\nhost = \"" + (home / "gitconfig").string() +
                        "\"\nguest = \"~/.gitconfig\"\n\n[[file_sync]]\nhost = \"" +
                        (home / "tool").string() + "\"\nguest = \"/root/bin/tool\"\n\n" +
                        "[[file_sync]]\nhost = \"" + (home / "missing").string() +
                        "\"\nguest = \"~/.missing\"\n");
  std::mutex mutex;
  std::vector<std::string> details;
  auto watcher = harness_->connectSession();
  auto match = watcher->addMatch(
      "type='signal',sender='org.banger.Vm',interface='org.banger.Job1',member='StageChanged'",
      [&](sdbus::Message& message) {
        std::string stage, detail;
        message >> stage >> detail;
        std::lock_guard lock(mutex);
        details.push_back(stage + ": " + detail);
      });
  watcher->enterEventLoopAsync();
  sdbus::ObjectPath synced, idle, job;
  std::tie(synced, job) = createVm(VariantMap{{"name", sdbus::Variant(std::string("synced"))}});
  EXPECT_EQ(waitJob(job), "succeeded");
  std::tie(idle, job) = createVm(
      VariantMap{{"name", sdbus::Variant(std::string("idle"))}, {"start", sdbus::Variant(false)}});
  EXPECT_EQ(waitJob(job), "succeeded");
  writeFile(config, before);
  watcher->leaveEventLoop();
  {
    std::lock_guard lock(mutex);
    const bool warned = std::any_of(details.begin(), details.end(), [&](const std::string& d) {
      return d.find("file_sync entry 3") != std::string::npos &&
             d.find("does not exist; skipped") != std::string::npos;
    });
    EXPECT_TRUE(warned) << ::testing::PrintToString(details);
  }
  const Shell r = ssh("synced", "stat -c %a .gitconfig; cat .gitconfig; bin/tool/run.sh");
  EXPECT_EQ(r.out, "600\n[user]\n\tname = me\ntool\n") << r.out;
  EXPECT_EQ(machineProperty<std::string>(idle, "State"), "stopped");

  std::vector<std::string> removed;
  manager_->callMethod("Prune")
      .onInterface("org.banger.Vm1.Manager")
      .withArguments(VariantMap{})
      .storeResultsTo(removed);
  EXPECT_EQ(removed, std::vector<std::string>{"idle"});
  EXPECT_FALSE(exists("idle")) << "Prune answered before its delete was over";
  ASSERT_EQ(waitJob(call(synced, "Delete", VariantMap{})), "succeeded");
}

// Disks that cannot be made (a file_sync entry over 256 MiB), while the lease and
// Firecracker come up beside them: the create fails naming the entry, and neither the
// lease nor a Firecracker is left behind.
TEST_F(VmLifecycle, AFailureWhileTheDisksAreMadeGivesBackTheLeaseAndEndsFirecracker) {
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  const fs::path big = harness_->root() / "big-file";
  writeFile(big, "");
  fs::resize_file(big, 300ull << 20);  // sparse: nothing is written
  writeFile(config,
            before + "\n[[file_sync]]\nhost = \"" + big.string() + "\"\nguest = \"~/big\"\n");
  sdbus::ObjectPath machine, job;
  std::tie(machine, job) = createVm(VariantMap{{"name", sdbus::Variant(std::string("no-disks"))}});
  const std::string outcome = waitJob(job);
  writeFile(config, before);
  EXPECT_NE(outcome.find("over 256 MiB"), std::string::npos) << outcome;
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "error");
  const std::string id = machineProperty<std::string>(machine, "Id");
  const auto leases = leasedIds();
  EXPECT_EQ(std::count(leases.begin(), leases.end(), id), 0) << "the lease is still held";
  // "[i]": the pattern never matches the shell that runs pgrep.
  EXPECT_NE(shell("pgrep -f -- 'firecracker.* --[i]d " + id + "'").status, 0)
      << "its Firecracker still runs";
  EXPECT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
}

// What a user meets on a machine that cannot run Firecracker: each failure named, with the
// fix, and nothing left holding a lease.
TEST_F(VmLifecycle, NoFirecrackerOrNoKvmIsUnavailableSayingWhatToDo) {
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  const fs::path wrapper = harness_->root() / "firecracker-no-kvm";
  writeFile(wrapper, std::string("#!/bin/sh\nexec ") + FIRECRACKER_FAKE_BIN +
                         " --fake-on-start no_kvm \"$@\"\n");
  fs::permissions(wrapper, fs::perms(0755));
  const auto attempt = [&](const std::string& firecracker, const std::string& name) {
    writeFile(config, "firecracker_bin = \"" + firecracker + "\"\n");
    sdbus::ObjectPath machine, job;
    std::tie(machine, job) = createVm(VariantMap{{"name", sdbus::Variant(name)}});
    const std::string outcome = waitJob(job);
    const std::string errorName = sdbus::createProxy(*bus_, kVm, job)
                                      ->getProperty("ErrorName")
                                      .onInterface("org.banger.Job1")
                                      .get<std::string>();
    EXPECT_EQ(machineProperty<std::string>(machine, "State"), "error");
    const std::string id = machineProperty<std::string>(machine, "Id");
    const auto leases = leasedIds();
    EXPECT_EQ(std::count(leases.begin(), leases.end(), id), 0) << "a failed start keeps a lease";
    // Firecracker is started beside the disks, yet they are made whatever becomes of it:
    // a start once it is fixed finds them.
    EXPECT_TRUE(fs::exists(harness_->root() / "state" / "vm" / "machines" / id / "work.ext4"))
        << name;
    EXPECT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
    return errorName + " " + outcome;
  };
  const std::string missing = attempt("/nonexistent/firecracker", "no-firecracker");
  EXPECT_NE(missing.find("org.banger.Error.Unavailable"), std::string::npos) << missing;
  EXPECT_NE(missing.find("firecracker_bin"), std::string::npos) << missing;
  const std::string noKvm = attempt(wrapper.string(), "no-kvm");
  EXPECT_NE(noKvm.find("org.banger.Error.Unavailable"), std::string::npos) << noKvm;
  EXPECT_NE(noKvm.find("add yourself to the kvm group"), std::string::npos) << noKvm;
  // A Firecracker that dies before it listens: its last words and where its log is.
  const fs::path dying = harness_->root() / "firecracker-dies";
  writeFile(dying, "#!/bin/sh\necho 'error: unknown flag' >&2\nexit 1\n");
  fs::permissions(dying, fs::perms(0755));
  const std::string died = attempt(dying.string(), "dies-at-once");
  EXPECT_NE(died.find("ended before its API socket"), std::string::npos) << died;
  EXPECT_NE(died.find("error: unknown flag"), std::string::npos) << died;
  EXPECT_NE(died.find("firecracker.log"), std::string::npos) << died;
  writeFile(config, before);
}

// A guest whose agent never answers (firecracker-fake boots nothing): after ssh_wait_sec
// the machine is left in `error` with the message users see, its disks kept for
// inspection, its Firecracker gone and no lease held.
TEST_F(VmLifecycle, AGuestThatNeverAnswersIsLeftInErrorForInspection) {
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  writeFile(config,
            std::string("firecracker_bin = \"") + FIRECRACKER_FAKE_BIN + "\"\nssh_wait_sec = 2\n");
  sdbus::ObjectPath machine, job;
  std::tie(machine, job) = createVm(VariantMap{{"name", sdbus::Variant(std::string("silent"))}});
  const std::string outcome = waitJob(job);
  writeFile(config, before);
  EXPECT_EQ(outcome, "failed: ssh did not come up within 2 s; see `banger vm logs silent`");
  EXPECT_EQ(sdbus::createProxy(*bus_, kVm, job)
                ->getProperty("ErrorName")
                .onInterface("org.banger.Job1")
                .get<std::string>(),
            "org.banger.Error.Timeout");
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "error");
  EXPECT_EQ(machineProperty<std::string>(machine, "LastError"),
            "ssh did not come up within 2 s; see `banger vm logs silent`");
  EXPECT_EQ(machineProperty<uint32_t>(machine, "Pid"), 0u);
  const std::string id = machineProperty<std::string>(machine, "Id");
  const fs::path dir = harness_->root() / "state" / "vm" / "machines" / id;
  EXPECT_TRUE(fs::exists(dir / "work.ext4"));
  EXPECT_TRUE(fs::exists(dir / "console.log"));
  EXPECT_EQ(shell("pgrep -f '[f]irecracker-fake.*" + id + "'").status, 1);
  const auto leases = leasedIds();
  EXPECT_EQ(std::count(leases.begin(), leases.end(), id), 0);
  ASSERT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
}

// Set: sizes only while stopped (disks only grow, and the guest sees the new size at its
// next boot), NAT at any time; Kill ends the Firecracker at once.
TEST_F(VmLifecycle, SetChangesSizesOnlyWhileStoppedAndKillEndsItAtOnce) {
  sdbus::ObjectPath machine, job;
  std::tie(machine, job) = createVm(VariantMap{{"name", sdbus::Variant(std::string("sized"))},
                                               {"memory_mib", sdbus::Variant(uint32_t{512})},
                                               {"disk_bytes", sdbus::Variant(uint64_t{2} << 30)}});
  ASSERT_EQ(waitJob(job), "succeeded");
  auto proxy = sdbus::createProxy(*bus_, kVm, machine);
  const auto set = [&](VariantMap settings) {
    proxy->callMethod("Set").onInterface(kMachine).withArguments(settings);
  };
  const sdbus::Error busy = callError([&] { set({{"vcpus", sdbus::Variant(uint32_t{2})}}); });
  EXPECT_EQ(busy.getName(), "org.banger.Error.Busy");
  EXPECT_NE(busy.getMessage().find("banger vm stop sized"), std::string::npos) << busy.getMessage();
  // Net's refusal arrives whole, and nothing changes.
  const sdbus::Error noForwarding = callError([&] { set({{"nat", sdbus::Variant(true)}}); });
  EXPECT_EQ(noForwarding.getName(), "org.banger.Error.Unavailable");
  EXPECT_NE(noForwarding.getMessage().find("ip_forward"), std::string::npos)
      << noForwarding.getMessage();
  EXPECT_FALSE(machineProperty<bool>(machine, "Nat"));
  ASSERT_EQ(
      shell("ip netns exec " + harness_->netns() + " sysctl -qw net.ipv4.ip_forward=1").status, 0);
  set({{"nat", sdbus::Variant(true)}});
  EXPECT_TRUE(machineProperty<bool>(machine, "Nat"));
  const sdbus::Error wrong = callError([&] { set({{"vcpus", sdbus::Variant(std::string("2"))}}); });
  EXPECT_EQ(wrong.getName(), "org.banger.Error.InvalidArgument");

  const uint32_t pid = machineProperty<uint32_t>(machine, "Pid");
  proxy->callMethod("Kill").onInterface(kMachine).withArguments(std::string("KILL"));
  EXPECT_TRUE(
      waitFor([&] { return machineProperty<std::string>(machine, "State") == "error"; }, 10s));
  EXPECT_NE(::kill(static_cast<pid_t>(pid), 0), 0);
  EXPECT_NE(machineProperty<std::string>(machine, "LastError").find("exited with status"),
            std::string::npos);
  // A real Firecracker's disks are closed once it is reaped; the simulator's guest unmounts
  // them a moment after (writing its superblock back), so the test waits for that.
  const std::string disks = harness_->root().string() + "/state/vm/machines/*/*.ext4";
  EXPECT_TRUE(waitFor(
      [&] { return shell("for f in " + disks + "; do losetup -j $f; done").out.empty(); }, 20s));
  const sdbus::Error shrink = callError([&] {
    set({{"disk_bytes", sdbus::Variant(uint64_t{1} << 30)}});
  });
  EXPECT_EQ(shrink.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(shrink.getMessage().find("can only grow"), std::string::npos) << shrink.getMessage();
  set({{"vcpus", sdbus::Variant(uint32_t{2})},
       {"memory_mib", sdbus::Variant(uint32_t{768})},
       {"disk_bytes", sdbus::Variant(uint64_t{3} << 30)}});
  EXPECT_EQ(machineProperty<uint32_t>(machine, "VCpus"), 2u);
  EXPECT_EQ(machineProperty<uint32_t>(machine, "MemoryMiB"), 768u);
  EXPECT_EQ(machineProperty<uint64_t>(machine, "DiskBytes"), uint64_t{3} << 30);
  ASSERT_EQ(waitJob(call(machine, "Restart", std::nullopt)), "succeeded");
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "running");
  EXPECT_EQ(ssh("sized", "nproc >/dev/null && echo back").out, "back\n");
  // Both filesystems grew to their disks' new end (less ext4's own overhead).
  const std::string sizes = ssh("sized", "df -B1 --output=size / /root | tail -n 2").out;
  std::istringstream fields(sizes);
  uint64_t overlayBytes = 0, workBytes = 0;
  fields >> overlayBytes >> workBytes;
  EXPECT_GT(overlayBytes, uint64_t{5} << 29) << sizes;  // over 2.5 GiB, of 3 GiB
  EXPECT_GT(workBytes, uint64_t{5} << 29) << sizes;
  ASSERT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
}

// A real `systemd --user` on the test's session bus, in the daemons' network namespace, as
// a desktop session has one. PID 1 here is not systemd, so it runs:
//  - in a mount namespace of its own where /run/systemd/system exists (else it refuses to
//    run, "not booted with systemd");
//  - in a cgroup of its own in every hierarchy (else it takes the root cgroup as its own
//    and moves every process of the machine into init.scope);
//  - with stand-in dbus.socket and dbus.service units (a user manager joins the session
//    bus, $DBUS_SESSION_BUS_ADDRESS, only once both run).
class UserManager {
 public:
  UserManager(const BusHarness& harness, const fs::path& runtime) : runtime_(runtime) {
    const fs::path units = runtime / "systemd" / "user";
    fs::create_directories(units / "default.target.wants");
    fs::permissions(runtime, fs::perms::owner_all);
    writeFile(units / "dbus.socket", "[Socket]\nListenStream=%t/dbus-stand-in\n");
    writeFile(units / "dbus.service", "[Service]\nExecStart=/bin/sleep infinity\n");
    for (const char* unit : {"dbus.socket", "dbus.service"})
      fs::create_symlink(units / unit, units / "default.target.wants" / unit);
    writeFile(runtime / "start.sh",
              "exec >'" + (runtime / "systemd.log").string() +
                  "' 2>&1\n"
                  "for h in /sys/fs/cgroup/*/; do\n"
                  "  mkdir -p \"${h}" +
                  cgroupName() +
                  "\" || exit 1\n"
                  "  if [ -f \"${h}cpuset.cpus\" ]; then\n"
                  "    cat \"${h}cpuset.cpus\" > \"${h}" +
                  cgroupName() +
                  "/cpuset.cpus\"\n"
                  "    cat \"${h}cpuset.mems\" > \"${h}" +
                  cgroupName() +
                  "/cpuset.mems\"\n"
                  "  fi\n"
                  "  echo $$ > \"${h}" +
                  cgroupName() +
                  "/cgroup.procs\" || exit 1\n"
                  "done\n"
                  "mount -t tmpfs banger-test /run/systemd && mkdir /run/systemd/system || exit 1\n"
                  "exec /lib/systemd/systemd --user --log-target=console\n");
    // Everything is built before fork: the test is multi-threaded (sd-bus), so the child
    // may only exec.
    std::vector<std::string> environment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                                            "DBUS_SESSION_BUS_ADDRESS=" + harness.sessionAddress(),
                                            "XDG_RUNTIME_DIR=" + runtime.string()};
    std::vector<char*> envp;
    for (std::string& variable : environment) envp.push_back(variable.data());
    envp.push_back(nullptr);
    const std::string script = (runtime / "start.sh").string();
    // In the daemons' network namespace, where banger-vm and its TAPs are.
    const std::string netns = "--net=/run/netns/" + harness.netns();
    const char* argv[] = {"/usr/bin/nsenter", netns.c_str(), "/usr/bin/unshare", "-m", "/bin/sh",
                          script.c_str(),     nullptr};
    pid_ = fork();
    if (pid_ == 0) {
      execve(argv[0], const_cast<char* const*>(argv), envp.data());
      _exit(127);
    }
  }
  ~UserManager() {
    // SIGRTMIN+24: a user manager exits at once. Whatever is left in its cgroups goes too.
    ::kill(pid_, SIGRTMIN + 24);
    int status = 0;
    waitpid(pid_, &status, 0);
    shell("for procs in /sys/fs/cgroup/*/" + cgroupName() +
          "/cgroup.procs; do xargs -r kill -KILL < $procs; done 2>/dev/null; sleep 0.3; "
          "find /sys/fs/cgroup/*/" +
          cgroupName() + " -depth -type d -exec rmdir {} + 2>/dev/null");
  }
  std::string log() const { return readTextFileIfExists(runtime_ / "systemd.log").value_or(""); }

 private:
  static std::string cgroupName() { return "banger-test-" + std::to_string(getpid()); }
  fs::path runtime_;
  pid_t pid_ = -1;
};

// Under a user systemd manager each Firecracker is its own transient unit, which outlives
// the service, is re-adopted, ends with the VM and whose name a restart reuses.
TEST_F(VmLifecycle, UnderAUserSystemdEachFirecrackerRunsInItsOwnTransientUnit) {
  UserManager manager(*harness_, harness_->root() / "user-runtime");
  ASSERT_TRUE(waitFor([&] { return nameHasOwner(*bus_, "org.freedesktop.systemd1"); }, 20s))
      << "systemd --user did not come up: " << manager.log();
  auto systemd = sdbus::createProxy(*bus_, "org.freedesktop.systemd1", "/org/freedesktop/systemd1");
  const std::string unit = "banger-vm-united.service";
  // The unit's MainPID, or 0 when systemd has no such unit (it ended and was collected).
  const auto mainPid = [&]() -> uint32_t {
    try {
      sdbus::ObjectPath path;
      systemd->callMethod("GetUnit")
          .onInterface("org.freedesktop.systemd1.Manager")
          .withArguments(unit)
          .storeResultsTo(path);
      return sdbus::createProxy(*bus_, "org.freedesktop.systemd1", path)
          ->getProperty("MainPID")
          .onInterface("org.freedesktop.systemd1.Service")
          .get<uint32_t>();
    } catch (const sdbus::Error& error) {
      EXPECT_EQ(error.getName(), "org.freedesktop.systemd1.NoSuchUnit") << error.getMessage();
      return 0;
    }
  };
  sdbus::ObjectPath machine, job;
  std::tie(machine, job) = createVm(VariantMap{{"name", sdbus::Variant(std::string("united"))},
                                               {"memory_mib", sdbus::Variant(uint32_t{512})}});
  ASSERT_EQ(waitJob(job), "succeeded") << manager.log();
  const uint32_t pid = machineProperty<uint32_t>(machine, "Pid");
  EXPECT_EQ(mainPid(), pid);
  EXPECT_NE(readFile("/proc/" + std::to_string(pid) + "/cgroup").find("/" + unit),
            std::string::npos);
  EXPECT_EQ(ssh("united", "echo in a unit").out, "in a unit\n");

  const pid_t service = nameOwnerPid(*bus_, "org.banger.Vm");
  ASSERT_EQ(::kill(service, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] { return !nameHasOwner(*bus_, "org.banger.Vm"); }, 10s));
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "running");
  EXPECT_EQ(machineProperty<uint32_t>(machine, "Pid"), pid);

  ASSERT_EQ(waitJob(call(machine, "Stop", VariantMap{{"force", sdbus::Variant(true)}})),
            "succeeded");
  EXPECT_TRUE(waitFor([&] { return mainPid() == 0; }, 10s)) << "the unit outlived its VM";
  ASSERT_EQ(waitJob(call(machine, "Start", std::nullopt)), "succeeded");
  EXPECT_EQ(mainPid(), machineProperty<uint32_t>(machine, "Pid"));
  ASSERT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
  EXPECT_TRUE(waitFor([&] { return mainPid() == 0; }, 10s));

  // A Firecracker that dies in its unit before it listens: its last words, and the journal.
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  const fs::path dying = harness_->root() / "firecracker-dies-in-unit";
  writeFile(dying, "#!/bin/sh\necho 'error: unknown flag' >&2\nexit 1\n");
  fs::permissions(dying, fs::perms(0755));
  writeFile(config, "firecracker_bin = \"" + dying.string() + "\"\n");
  sdbus::ObjectPath doomed, doomedJob;
  std::tie(doomed, doomedJob) =
      createVm(VariantMap{{"name", sdbus::Variant(std::string("doomed"))}});
  const std::string died = waitJob(doomedJob);
  writeFile(config, before);
  EXPECT_NE(died.find("in banger-vm-doomed.service ended before its API socket"), std::string::npos)
      << died;
  EXPECT_NE(died.find("error: unknown flag"), std::string::npos) << died;
  EXPECT_NE(died.find("journalctl --user -u banger-vm-doomed.service"), std::string::npos) << died;
  ASSERT_EQ(waitJob(call(doomed, "Delete", VariantMap{})), "succeeded");
}

TEST_F(VmLifecycle, BadSpecsAndNamesAreRefusedNamingTheKeyAndNothingIsMade) {
  const auto refuse = [&](VariantMap spec) {
    return callError([&] {
      sdbus::ObjectPath machine, job;
      std::tie(machine, job) = createVm(spec);
    });
  };
  sdbus::Error badName = refuse({{"name", sdbus::Variant(std::string("Not_A_Label"))}});
  EXPECT_EQ(badName.getName(), "org.banger.Error.InvalidArgument");
  sdbus::Error badType = refuse({{"vcpus", sdbus::Variant(std::string("two"))}});
  EXPECT_EQ(badType.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(badType.getMessage().find("vcpus"), std::string::npos) << badType.getMessage();
  sdbus::Error unknown = refuse({{"colour", sdbus::Variant(std::string("red"))}});
  EXPECT_NE(unknown.getMessage().find("colour"), std::string::npos) << unknown.getMessage();
  std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> machines;
  manager_->callMethod("ListMachines")
      .onInterface("org.banger.Vm1.Manager")
      .storeResultsTo(machines);
  EXPECT_TRUE(machines.empty());
}

TEST_F(VmLifecycle, AnImageThatExistsNowhereIsNotFoundNamingTheCatalog) {
  sdbus::ObjectPath machine, job;
  std::tie(machine, job) =
      createVm(VariantMap{{"name", sdbus::Variant(std::string("nowhere"))},
                          {"image", sdbus::Variant(std::string("no-such-image"))}});
  const std::string outcome = waitJob(job);
  EXPECT_NE(outcome.find("banger image catalog"), std::string::npos) << outcome;
  EXPECT_EQ(machineProperty<std::string>(machine, "State"), "error");
  EXPECT_NE(machineProperty<std::string>(machine, "LastError").find("no-such-image"),
            std::string::npos);
  // The lease and Firecracker, asked for while the image was being found, are given back.
  const std::string id = machineProperty<std::string>(machine, "Id");
  const auto leases = leasedIds();
  EXPECT_EQ(std::count(leases.begin(), leases.end(), id), 0) << "the lease outlived the failure";
  EXPECT_EQ(machineProperty<uint32_t>(machine, "Pid"), 0u);
  EXPECT_EQ(shell("pgrep -f '[f]irecracker-sim.*" + id + "'").status, 1) << "an orphan runs";
  // A workspace needs a running machine, and says how to get one; a bad option is named
  // before that.
  const auto workspaceError = [&](const VariantMap& options) {
    return callError([&] {
      sdbus::createProxy(*bus_, kVm, machine)
          ->callMethod("PrepareWorkspace")
          .onInterface(kMachine)
          .withArguments(std::string("/tmp"), options);
    });
  };
  const sdbus::Error notRunning = workspaceError({});
  EXPECT_EQ(notRunning.getName(), "org.banger.Error.Busy");
  EXPECT_NE(notRunning.getMessage().find(
                "machine nowhere is error; a workspace is copied into a running machine: banger "
                "vm start nowhere"),
            std::string::npos)
      << notRunning.getMessage();
  const sdbus::Error badOption = workspaceError({{"mode", sdbus::Variant(std::string("rsync"))}});
  EXPECT_EQ(badOption.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(badOption.getMessage().find("mode 'rsync'"), std::string::npos)
      << badOption.getMessage();
  // Health says why a machine that does not run is not healthy.
  bool healthy = true;
  std::string detail;
  sdbus::createProxy(*bus_, kVm, machine)
      ->callMethod("Health")
      .onInterface(kMachine)
      .storeResultsTo(healthy, detail);
  EXPECT_FALSE(healthy);
  EXPECT_EQ(detail, "machine nowhere is error");
  ASSERT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
}

// A create whose image must be pulled (an OCI reference) relays the pull's progress in its
// `image` stage, and a create whose image is already here does not wait behind it.
TEST_F(VmLifecycle, ACreateThatPullsRelaysItsProgressAndHoldsUpNoOtherCreate) {
  TempDir work;
  // The registry and the proxy live in the services' network namespace, as a registry on
  // a real host's network would be reachable from them.
  const int hostNet = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int servicesNet = ::open(("/run/netns/" + harness_->netns()).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_EQ(::setns(servicesNet, CLONE_NEWNET), 0);
  std::optional<TestRegistry> registryHolder;
  std::optional<StallingProxy> proxyHolder;
  try {
    registryHolder.emplace();
  } catch (...) {
    ::setns(hostNet, CLONE_NEWNET);
    throw;
  }
  TestRegistry& registry = *registryHolder;
  OciLayout layout(work.path() / "layout");
  TarBuilder layer;
  layer.dir("root", 0700).file("root/.profile", "cd\n").dir("etc", 0755);
  layer.file("etc/os-release", "ID=debian\n").file("noise", noise(24 << 20));
  layout.addImage({{layer.bytes(), "application/vnd.oci.image.layer.v1.tar"}}, "big");
  registry.push(layout, "big", "banger/vmtest");
  proxyHolder.emplace(registry.host(), work.path());
  ASSERT_EQ(::setns(hostNet, CLONE_NEWNET), 0);
  ::close(hostNet);
  ::close(servicesNet);
  StallingProxy& proxy = *proxyHolder;
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  writeFile(config, before + "insecure_registries = [\"" + proxy.host() + "\"]\n");

  sdbus::ObjectPath pulled, pullJob;
  std::tie(pulled, pullJob) =
      createVm(VariantMap{{"name", sdbus::Variant(std::string("pulled"))},
                          {"image", sdbus::Variant(proxy.host() + "/banger/vmtest:big")},
                          {"kernel", sdbus::Variant(std::string("debian-cloud"))},
                          {"start", sdbus::Variant(false)}});
  auto pullProxy = sdbus::createProxy(*bus_, kVm, pullJob);
  const auto job = [&](const std::string& property) {
    return pullProxy->getProperty(property).onInterface("org.banger.Job1");
  };
  EXPECT_TRUE(waitFor(
      [&] {
        return job("Stage").get<std::string>() == "image" &&
               job("CompletedBytes").get<uint64_t>() >= (1u << 20);
      },
      60s))
      << "the create never relayed the pull's bytes; stage " << job("Stage").get<std::string>()
      << ": " << job("Detail").get<std::string>();

  // The proxy holds the pull; a create of the image that is here goes through meanwhile.
  sdbus::ObjectPath local, localJob;
  std::tie(local, localJob) = createVm(
      VariantMap{{"name", sdbus::Variant(std::string("local"))}, {"start", sdbus::Variant(false)}});
  EXPECT_EQ(waitJob(localJob), "succeeded");
  EXPECT_EQ(job("State").get<std::string>(), "running") << "the pull ended before the check";

  proxy.release();
  EXPECT_EQ(waitJob(pullJob), "succeeded");
  EXPECT_EQ(machineProperty<std::string>(pulled, "State"), "stopped");
  EXPECT_NE(machineProperty<std::string>(pulled, "Image"),
            machineProperty<std::string>(local, "Image"));
  writeFile(config, before);
  for (const auto& machine : {pulled, local})
    EXPECT_EQ(waitJob(call(machine, "Delete", VariantMap{})), "succeeded");
}

}  // namespace
}  // namespace banger::test
