// The four daemons on private buses, started by D-Bus activation from the project's own
// activation templates, with the project's system-bus policy and the real polkitd.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <regex>
#include <thread>
#include <utility>

#include "banger/process.h"
#include "harness.h"
#include "introspection.h"
#include "test_host.h"

using namespace banger;
using namespace banger::test;

namespace {
constexpr unsigned kIdleSec = 2;

struct ServiceCase {
  std::string bus, name, path;
  std::vector<std::string> rootInterfaces;  // files in interfaces/
};

const std::vector<ServiceCase> kUserServices = {
    {"user", "org.banger.Vm", "/org/banger/Vm", {"org.banger.Vm1.Manager"}},
    {"user", "org.banger.Image", "/org/banger/Image", {"org.banger.Image1.Manager"}},
    {"user", "org.banger.Dns", "/org/banger/Dns", {"org.banger.Dns1.Manager"}},
};
const ServiceCase kNet{"system", "org.banger.Net", "/org/banger/Net", {"org.banger.Net1.Manager"}};

std::string contract(const std::string& interface) {
  return readFile(std::string(BANGER_SOURCE_DIR) + "/interfaces/" + interface + ".xml");
}

std::string introspect(sdbus::IConnection& bus, const std::string& name, const std::string& path) {
  auto proxy = sdbus::createProxy(bus, name, path);
  std::string xml;
  proxy->callMethod("Introspect")
      .onInterface("org.freedesktop.DBus.Introspectable")
      .storeResultsTo(xml);
  return xml;
}

class Services : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    BusHarness::Options options;
    options.idleTimeoutSec = kIdleSec;
    options.systemBus = geteuid() == 0;  // only root may own org.banger.Net under the policy
    options.polkit = geteuid() == 0;
    options.isolateNetwork = geteuid() == 0;
    harness_ = new BusHarness(options);
  }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }
  void requireRoot() {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root (a system bus the test owns, polkitd); CI runs as root";
  }
  static BusHarness* harness_;
  TestHost& host_ = testHost();
};
BusHarness* Services::harness_ = nullptr;
// Registered before main(): gtest sets environments up only if they exist by then.
[[maybe_unused]] TestHost& registeredHost = testHost();

TEST_F(Services, EachUserServiceIsActivatedByItsFirstCallAndMatchesTheContract) {
  BusHarness fresh({kIdleSec, false, false});  // nothing has been activated on it yet
  auto bus = fresh.connectSession();
  for (const auto& s : kUserServices) {
    SCOPED_TRACE(s.name);
    EXPECT_FALSE(nameHasOwner(*bus, s.name));
    const std::string xml = introspect(*bus, s.name, s.path);  // activates it
    EXPECT_TRUE(nameHasOwner(*bus, s.name));
    const auto live = interfaceMembers(xml);
    for (const auto& interface : s.rootInterfaces) {
      const auto expected = interfaceMembers(contract(interface));
      ASSERT_EQ(expected.count(interface), 1U);
      ASSERT_EQ(live.count(interface), 1U) << xml;
      EXPECT_EQ(live.at(interface), expected.at(interface));
    }
  }
  const auto vm = interfaceMembers(introspect(*bus, "org.banger.Vm", "/org/banger/Vm"));
  EXPECT_EQ(vm.count("org.freedesktop.DBus.ObjectManager"), 1U);
  const auto& members = vm.at("org.banger.Vm1.Manager");
  EXPECT_NE(std::find(members.begin(), members.end(),
                      "method CreateVm: in a{sv} spec; out o machine; out o job;"),
            members.end());
}

TEST_F(Services, NetIsActivatedOnTheSystemBusAndMatchesTheContract) {
  requireRoot();
  auto bus = harness_->connectSystem();
  const std::string xml = introspect(*bus, kNet.name, kNet.path);
  const auto live = interfaceMembers(xml);
  EXPECT_EQ(live.at("org.banger.Net1.Manager"),
            interfaceMembers(contract("org.banger.Net1.Manager")).at("org.banger.Net1.Manager"));
  auto proxy = sdbus::createProxy(*bus, kNet.name, kNet.path);
  const std::string bridge = proxy->getProperty("Bridge").onInterface("org.banger.Net1.Manager");
  const std::string subnet = proxy->getProperty("Subnet").onInterface("org.banger.Net1.Manager");
  EXPECT_EQ(bridge, "banger0");
  EXPECT_EQ(subnet, "172.16.0.0/24");
}

TEST_F(Services, BusctlIntrospectActivatesAndListsTheManagers) {
  Command busctl{{"busctl", "--user", "introspect", "org.banger.Vm", "/org/banger/Vm"}};
  busctl.extraEnv = harness_->clientEnvironment();
  SystemProcessRunner runner;
  auto r = runner.run(busctl);
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.out.find("org.banger.Vm1.Manager"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\.CreateVm\s+method\s+a\{sv\}\s+oo\s)")))
      << r.out;
  EXPECT_NE(r.out.find("org.freedesktop.DBus.ObjectManager"), std::string::npos) << r.out;

  busctl.argv = {"busctl", "--user", "introspect", "org.banger.Image", "/org/banger/Image"};
  r = runner.run(busctl);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\.Pull\s+method\s+sa\{sv\}\s+oo\s)")))
      << r.out;
  busctl.argv = {"busctl", "--user", "introspect", "org.banger.Dns", "/org/banger/Dns"};
  r = runner.run(busctl);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\.Resolve\s+method\s+s\s+as\s)"))) << r.out;
  if (geteuid() == 0) {
    busctl.argv = {"busctl", "--system", "introspect", "org.banger.Net", "/org/banger/Net"};
    r = runner.run(busctl);
    EXPECT_TRUE(
        std::regex_search(r.out, std::regex(R"(\.AcquireLease\s+method\s+sa\{sv\}\s+sssusas\s)")))
        << r.out;
  }
}

TEST_F(Services, DaemonsPrintTheirContractWithIntrospect) {
  const std::map<std::string, std::vector<std::string>> daemons = {
      {BANGER_VM_BIN, {"org.banger.Vm1.Manager", "org.banger.Vm1.Machine", "org.banger.Job1"}},
      {BANGER_IMAGE_BIN,
       {"org.banger.Image1.Manager", "org.banger.Image1.Image", "org.banger.Image1.Kernel",
        "org.banger.Job1"}},
      {BANGER_NET_BIN, {"org.banger.Net1.Manager"}},
      {BANGER_DNS_BIN, {"org.banger.Dns1.Manager"}}};
  SystemProcessRunner runner;
  for (const auto& [binary, interfaces] : daemons) {
    const auto result = runner.run({{binary, "--introspect"}});
    ASSERT_TRUE(result.ok()) << binary << ": " << result.err;
    const auto printed = interfaceMembers(result.out);
    EXPECT_EQ(printed.size(), interfaces.size()) << binary;
    for (const auto& i : interfaces) {
      EXPECT_EQ(printed.at(i), interfaceMembers(contract(i)).at(i)) << binary << " " << i;
    }
  }
}

TEST_F(Services, UnknownOptionKeyAndWrongTypeAreInvalidArgumentNamingTheKey) {
  auto bus = harness_->connectSession();
  auto vm = sdbus::createProxy(*bus, "org.banger.Vm", "/org/banger/Vm");
  auto e = callError([&] {
    std::map<std::string, sdbus::Variant> overrides{{"colour", sdbus::Variant(std::string("red"))}};
    vm->callMethod("ResolveSpec").onInterface("org.banger.Vm1.Manager").withArguments(overrides);
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("'colour'"), std::string::npos) << e.getMessage();

  e = callError([&] {
    std::map<std::string, sdbus::Variant> overrides{{"vcpus", sdbus::Variant(std::string("2"))}};
    vm->callMethod("ResolveSpec").onInterface("org.banger.Vm1.Manager").withArguments(overrides);
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("'vcpus'"), std::string::npos) << e.getMessage();

  auto image = sdbus::createProxy(*bus, "org.banger.Image", "/org/banger/Image");
  e = callError([&] {
    std::map<std::string, sdbus::Variant> options{{"frobnicate", sdbus::Variant(true)}};
    image->callMethod("Pull")
        .onInterface("org.banger.Image1.Manager")
        .withArguments(std::string("alpine"), options);
  });
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("'frobnicate'"), std::string::npos) << e.getMessage();
}

// Every daemon refuses a call whose arguments are over its size budget before they are
// unpacked, and one with more option keys than any schema, then keeps serving.
TEST_F(Services, OversizedCallsAreRefusedAndTheServiceKeepsServing) {
  auto bus = harness_->connectSession();
  auto vm = sdbus::createProxy(*bus, "org.banger.Vm", "/org/banger/Vm");
  auto resolveWith = [&](size_t keys, const std::string& value) {
    std::map<std::string, sdbus::Variant> overrides;
    for (size_t i = 0; i < keys; ++i) overrides["key" + std::to_string(i)] = sdbus::Variant(value);
    return callError([&] {
      vm->callMethod("ResolveSpec").onInterface("org.banger.Vm1.Manager").withArguments(overrides);
    });
  };
  auto e = resolveWith(5000, "x");
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("too large"), std::string::npos) << e.getMessage();
  e = resolveWith(1, std::string(2 << 20, 'x'));  // one 2 MiB string
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("too large"), std::string::npos) << e.getMessage();
  e = resolveWith(33, "x");
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("has 33 keys; at most 32"), std::string::npos) << e.getMessage();
  const std::string version = vm->getProperty("Version").onInterface("org.banger.Vm1.Manager");
  EXPECT_FALSE(version.empty());
}

// A session bus of the test's own, for daemons it starts by hand; `dir` is their HOME too.
struct PrivateBus {
  TempDir dir;
  std::string address = "unix:path=" + (dir.path() / "bus").string();
  pid_t pid = spawnBackground({"dbus-daemon", "--session", "--nofork", "--address=" + address}, {},
                              dir.path() / "bus.log");
  ~PrivateBus() { stop(); }
  bool up() const {
    return waitFor([&] { return std::filesystem::exists(dir.path() / "bus"); },
                   std::chrono::seconds(10));
  }
  void stop() { stopProcess(std::exchange(pid, 0)); }
};

// A session that ends takes its bus with it: the daemons on it exit cleanly, without an
// error in the journal.
TEST(BusGoesAway, DaemonsExitCleanlyWhenTheirBusCloses) {
  PrivateBus bus;
  ASSERT_TRUE(bus.up());
  const TempDir& dir = bus.dir;
  const std::string& address = bus.address;
  std::map<std::string, pid_t> daemons;
  for (const auto& [name, binary] : {std::pair{"vm", BANGER_VM_BIN}, {"dns", BANGER_DNS_BIN}}) {
    daemons[name] =
        spawnBackground({binary, "--idle-timeout", "0"},
                        {{"DBUS_SESSION_BUS_ADDRESS", address},
                         {"HOME", dir.path().string()},
                         {"BANGER_DNS_LISTEN", "127.0.0.1:" + std::to_string(freeLoopbackPort())}},
                        dir.path() / (std::string(name) + ".log"));
  }
  for (const auto& [name, pid] : daemons) {
    const auto log = dir.path() / (name + ".log");
    ASSERT_TRUE(waitFor([&] { return readFile(log).find("serving") != std::string::npos; },
                        std::chrono::seconds(10)))
        << readFile(log);
  }
  bus.stop();
  for (const auto& [name, pid] : daemons) {
    int status = -1;
    const bool exited =
        waitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(10));
    const std::string log = readFile(dir.path() / (name + ".log"));
    ASSERT_TRUE(exited) << name << " still runs without its bus: " << log;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << name << ": " << log;
    EXPECT_EQ(log.find(" error: "), std::string::npos) << log;
  }
}

// A service stopped while a finished job still lingers announces that job's removal, as it
// does its machines', so a desktop following the ObjectManager drops it; and says nothing
// of it in its log.
TEST(ServiceStop, LingeringJobsAreAnnouncedAsRemoved) {
  PrivateBus bus;
  ASSERT_TRUE(bus.up());
  const TempDir& dir = bus.dir;
  const std::string& address = bus.address;
  const auto log = dir.path() / "vm.log";
  const pid_t vm =
      spawnBackground({BANGER_VM_BIN, "--idle-timeout", "0"},
                      {{"DBUS_SESSION_BUS_ADDRESS", address}, {"HOME", dir.path().string()}}, log);
  ASSERT_TRUE(waitFor([&] { return readFile(log).find("serving") != std::string::npos; },
                      std::chrono::seconds(10)))
      << readFile(log);

  auto client = sdbus::createSessionBusConnectionWithAddress(address);
  auto manager = sdbus::createProxy(*client, "org.banger.Vm", "/org/banger/Vm");
  std::mutex mutex;
  std::vector<std::string> removed;
  // Matched by path, not by the name: a stopping service gives its name up first.
  const sdbus::Slot match = client->addMatch(
      "type='signal',path='/org/banger/Vm',interface='org.freedesktop.DBus.ObjectManager',"
      "member='InterfacesRemoved'",
      [&](sdbus::Message& signal) {
        sdbus::ObjectPath path;
        signal >> path;
        const std::lock_guard lock(mutex);
        removed.push_back(path);
      });
  client->enterEventLoopAsync();
  // No Image service on this bus: the job fails at once and lingers for its minute.
  sdbus::ObjectPath machine, job;
  manager->callMethod("CreateVm")
      .onInterface("org.banger.Vm1.Manager")
      .withArguments(std::map<std::string, sdbus::Variant>{{"name", std::string("doomed")},
                                                           {"image", std::string("nope")}})
      .storeResultsTo(machine, job);
  auto jobProxy = sdbus::createProxy(*client, "org.banger.Vm", job);
  ASSERT_TRUE(waitFor(
      [&] {
        const std::string state = jobProxy->getProperty("State").onInterface("org.banger.Job1");
        return state != "running";
      },
      std::chrono::seconds(10)));

  ::kill(vm, SIGTERM);
  int status = -1;
  ASSERT_TRUE(
      waitFor([&] { return waitpid(vm, &status, WNOHANG) == vm; }, std::chrono::seconds(10)))
      << readFile(log);
  EXPECT_TRUE(waitFor(
      [&] {
        const std::lock_guard lock(mutex);
        return std::count(removed.begin(), removed.end(), std::string(job)) == 1;
      },
      std::chrono::seconds(5)))
      << "no InterfacesRemoved for " << std::string(job) << " among "
      << ::testing::PrintToString(removed);
  client->leaveEventLoop();
  EXPECT_EQ(readFile(log).find("announcing"), std::string::npos) << readFile(log);
}

TEST_F(Services, AVmNameThatIsNotADnsLabelIsRefused) {
  auto bus = harness_->connectSession();
  auto vm = sdbus::createProxy(*bus, "org.banger.Vm", "/org/banger/Vm");
  for (const char* method : {"CreateVm", "ResolveSpec"}) {
    auto e = callError([&] {
      vm->callMethod(method)
          .onInterface("org.banger.Vm1.Manager")
          .withArguments(std::map<std::string, sdbus::Variant>{
              {"name", sdbus::Variant(std::string("web.internal"))}});
    });
    EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument") << method;
    EXPECT_NE(e.getMessage().find("'web.internal' is not a VM name"), std::string::npos)
        << e.getMessage();
  }
}

TEST_F(Services, ResolveSpecReportsProvenance) {
  writeFile(harness_->root() / "config/config.toml", "[vm_defaults]\nmemory_mib = 3072\n");
  auto bus = harness_->connectSession();
  auto vm = sdbus::createProxy(*bus, "org.banger.Vm", "/org/banger/Vm");
  std::map<std::string, sdbus::Variant> spec;
  std::map<std::string, std::string> provenance;
  vm->callMethod("ResolveSpec")
      .onInterface("org.banger.Vm1.Manager")
      .withArguments(std::map<std::string, sdbus::Variant>{{"vcpus", sdbus::Variant(uint32_t{3})}})
      .storeResultsTo(spec, provenance);
  std::filesystem::remove(harness_->root() / "config/config.toml");
  EXPECT_EQ(spec.at("vcpus").get<uint32_t>(), 3U);
  EXPECT_EQ(provenance.at("vcpus"), "flag");
  EXPECT_EQ(spec.at("memory_mib").get<uint32_t>(), 3072U);
  EXPECT_EQ(provenance.at("memory_mib"), "config");
  EXPECT_EQ(spec.at("image").get<std::string>(), "debian-bookworm");
  EXPECT_EQ(provenance.at("image"), "builtin");
  EXPECT_TRUE(provenance.at("disk_bytes") == "auto" || provenance.at("disk_bytes") == "builtin");
}

TEST_F(Services, BadConfigIsReportedNamingTheKey) {
  writeFile(harness_->root() / "config/config.toml",
            "[[file_sync]]\nhost = \"~/x\"\nguest = \"/etc/x\"\n");
  auto bus = harness_->connectSession();
  auto vm = sdbus::createProxy(*bus, "org.banger.Vm", "/org/banger/Vm");
  auto e = callError([&] {
    vm->callMethod("ResolveSpec")
        .onInterface("org.banger.Vm1.Manager")
        .withArguments(std::map<std::string, sdbus::Variant>{});
  });
  std::filesystem::remove(harness_->root() / "config/config.toml");
  EXPECT_EQ(e.getName(), "org.banger.Error.InvalidArgument");
  EXPECT_NE(e.getMessage().find("file_sync entry 1, key 'guest'"), std::string::npos)
      << e.getMessage();
}

TEST_F(Services, ServicesExitWhenIdleAndComeBackOnTheNextCall) {
  auto bus = harness_->connectSession();
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& s : kUserServices) names.emplace_back(s.name, s.path);
  for (const auto& [name, path] : names) {
    SCOPED_TRACE(name);
    // From a stopped service: one left running by an earlier test may be at the end of
    // its idle period (Introspect, answered by sd-bus itself, is not activity).
    ASSERT_TRUE(
        waitFor([&] { return !nameHasOwner(*bus, name); }, std::chrono::seconds(kIdleSec + 5)));
    introspect(*bus, name, path);
    ASSERT_TRUE(nameHasOwner(*bus, name)) << "not activated by the call";
    EXPECT_TRUE(
        waitFor([&] { return !nameHasOwner(*bus, name); }, std::chrono::seconds(kIdleSec + 5)))
        << "still running after " << kIdleSec << " s idle";
    introspect(*bus, name, path);
    EXPECT_TRUE(nameHasOwner(*bus, name)) << "not activated again";
  }
  if (geteuid() == 0) {
    auto system = harness_->connectSystem();
    introspect(*system, kNet.name, kNet.path);
    EXPECT_TRUE(waitFor([&] { return !nameHasOwner(*system, kNet.name); },
                        std::chrono::seconds(kIdleSec + 5)));
    introspect(*system, kNet.name, kNet.path);
    EXPECT_TRUE(nameHasOwner(*system, kNet.name));
  }
}

// polkitd on the test bus, with the tree's action and rules installed (TestHost), decides
// banger's actions by group: a member's process is allowed, an outsider's is not. (Root
// would prove nothing: polkitd allows uid 0 everything.)
TEST_F(Services, PolkitGrantsBangersActionsToMembersOnly) {
  requireRoot();
  ASSERT_TRUE(harness_->polkitRunning());
  auto bus = harness_->connectSystem();
  auto authority = sdbus::createProxy(*bus, "org.freedesktop.PolicyKit1",
                                      "/org/freedesktop/PolicyKit1/Authority");
  const auto allowed = [&](const TestUser& user, const std::string& action) {
    // A process of that user for polkit to look at, as it looks at a bus caller.
    const pid_t pid = spawnBackground(
        {"setpriv", "--reuid=" + user.name, "--regid=" + user.name, "--init-groups", "sleep", "30"},
        {}, "/dev/null");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // past exec
    sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>> subject{
        "unix-process",
        {{"pid", sdbus::Variant(static_cast<uint32_t>(pid))},
         {"start-time", sdbus::Variant(uint64_t{0})},
         {"uid", sdbus::Variant(static_cast<int32_t>(user.uid))}}};
    sdbus::Struct<bool, bool, std::map<std::string, std::string>> result;
    authority->callMethod("CheckAuthorization")
        .onInterface("org.freedesktop.PolicyKit1.Authority")
        .withArguments(subject, action, std::map<std::string, std::string>{}, uint32_t{0},
                       std::string())
        .storeResultsTo(result);
    stopProcess(pid);
    return result.get<0>();
  };
  for (const std::string action :
       {"org.banger.Net.manage-leases", "org.banger.Net.configure-host"}) {
    EXPECT_TRUE(allowed(host_.members[0], action)) << action << " for a member";
    EXPECT_FALSE(allowed(host_.outsider, action)) << action << " for an outsider";
  }
}

TEST_F(Services, DoctorPrintsItsChecksAndFailsWithoutFirecracker) {
  Command doctor{{BANGER_CLI_BIN, "doctor"}};
  doctor.extraEnv = harness_->clientEnvironment();
  doctor.extraEnv["PATH"] = "/usr/bin:/bin";  // no firecracker here
  SystemProcessRunner runner;
  const auto result = runner.run(doctor);
  EXPECT_EQ(result.exitCode, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("FAIL  firecracker: not found on PATH"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("pass  vm service: org.banger.Vm answers"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("pass  image service"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("pass  dns service"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("vm_defaults.vcpu: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("architecture"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("/dev/kvm"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("free under " + (harness_->root() / "state").string()),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("warn  ssh-config: plain `ssh NAME.vm` needs banger's ssh_config: "
                            "banger ssh-config --install"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("pass  default image: debian-bookworm (in the catalog"),
            std::string::npos)
      << result.out;
  if (geteuid() == 0) {
    EXPECT_NE(result.out.find("pass  net service"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("pass  authorised: root"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("warn  dns routing: "), std::string::npos) << result.out;
  }
}

// doctor asks polkit, as Net would, whether this user may lease a TAP: yes for a member of
// the banger group, no for anyone else, with the fix.
TEST_F(Services, DoctorSaysWhetherThisUserIsAuthorisedForNet) {
  requireRoot();
  ASSERT_TRUE(harness_->polkitRunning());
  const auto doctorAs = [&](const TestUser& user) {
    Command doctor{{"setpriv", "--reuid=" + user.name, "--regid=" + user.name, "--init-groups",
                    BANGER_CLI_BIN, "doctor"}};
    doctor.extraEnv = harness_->clientEnvironment();
    doctor.extraEnv["HOME"] = "/nonexistent";
    return SystemProcessRunner().run(doctor).out;
  };
  std::string out = doctorAs(host_.members[0]);
  EXPECT_NE(out.find("pass  authorised: org.banger.Net.manage-leases: yes"), std::string::npos)
      << out;
  out = doctorAs(host_.outsider);
  EXPECT_NE(out.find("FAIL  authorised: org.banger.Net.manage-leases: no; join the banger group"),
            std::string::npos)
      << out;
}

TEST_F(Services, DoctorHonoursFirecrackerBinFromConfigAndSaysItsVersion) {
  const auto doctorWith = [&](const std::string& program) {
    writeFile(harness_->root() / "config/config.toml", "firecracker_bin = \"" + program + "\"\n");
    Command doctor{{BANGER_CLI_BIN, "doctor"}};
    doctor.extraEnv = harness_->clientEnvironment();
    const auto result = SystemProcessRunner().run(doctor);
    std::filesystem::remove(harness_->root() / "config/config.toml");
    return result.out;
  };
  const auto firecracker = harness_->root() / "firecracker";
  writeFile(firecracker, "#!/bin/sh\necho 'Firecracker v1.16.1'\necho\n");
  std::filesystem::permissions(firecracker, std::filesystem::perms::owner_all);
  std::string out = doctorWith(firecracker.string());
  EXPECT_NE(out.find("pass  firecracker: " + firecracker.string() + " (firecracker_bin), v1.16.1"),
            std::string::npos)
      << out;
  writeFile(firecracker, "#!/bin/sh\necho 'Firecracker v1.7.0'\n");
  out = doctorWith(firecracker.string());
  EXPECT_NE(out.find("warn  firecracker: " + firecracker.string() +
                     " (firecracker_bin), v1.7.0: banger speaks the v1.16 API"),
            std::string::npos)
      << out;
  out = doctorWith("/bin/true");
  EXPECT_NE(
      out.find("warn  firecracker: /bin/true (firecracker_bin) does not say it is Firecracker"),
      std::string::npos)
      << out;
}

}  // namespace

namespace {

// `system install` readies the host for the user who ran sudo, `system uninstall` takes
// banger's network things away and keeps the data; both as root only. Own buses and
// namespace, since uninstall removes the bridge and table other tests' Net would use.
TEST(SystemCommands, InstallAddsTheInvokingUserAndUninstallRemovesBridgeAndTableKeepingData) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (groups, a system bus, a namespace); CI is root";
  BusHarness::Options options;
  options.isolateNetwork = true;
  BusHarness harness(options);
  TestHost& host = testHost();
  const std::string user = "banger-tsys";
  shell("userdel " + user + " 2>/dev/null; useradd --system --no-create-home --home-dir /home/" +
        user + " " + user);
  const auto banger = [&](const std::string& args, const std::string& prefix = "") {
    std::string env;
    for (const auto& [key, value] : harness.clientEnvironment()) env += key + "='" + value + "' ";
    return shell("nsenter --net=/run/netns/" + harness.netns() + " " + prefix + " env " + env +
                 "SUDO_USER=" + user + " " + BANGER_CLI_BIN + " " + args + " 2>&1");
  };
  const auto inNamespace = [&](const std::string& command) {
    return shell("ip netns exec " + harness.netns() + " sh -c '" + command + "' >/dev/null 2>&1")
        .status;
  };

  Shell r = banger("system install", "setpriv --reuid=" + host.outsider.name +
                                         " --regid=" + host.outsider.name + " --init-groups");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("run it as root, e.g. sudo banger system install"), std::string::npos)
      << r.out;

  r = banger("system install");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("system: group banger exists"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("system: added " + user + " to the group banger"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("reloaded the system bus's policy"), std::string::npos) << r.out;
  // Routing is asked for as that user; there is no resolved on the test's bus.
  EXPECT_NE(r.out.find("systemd-resolved is not running"), std::string::npos) << r.out;
  EXPECT_NE(shell("id -nG " + user).out.find("banger"), std::string::npos);
  r = banger("system install");
  EXPECT_NE(r.out.find("system: " + user + " is in the group banger"), std::string::npos) << r.out;

  // Net may have made them already; if not, they are made as it would.
  ASSERT_EQ(inNamespace("ip link show banger0 || ip link add banger0 type bridge"), 0);
  ASSERT_EQ(inNamespace("nft add table inet banger"), 0);
  r = banger("system uninstall");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("removed the bridge banger0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("removed the nftables table inet banger"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rm -rf /home/" + user + "/.local/state/banger"), std::string::npos)
      << r.out;
  EXPECT_NE(inNamespace("ip link show banger0"), 0);
  EXPECT_NE(inNamespace("nft list table inet banger"), 0);
  shell("userdel " + user);
}

}  // namespace
