#include "net_fixture.h"

#include <signal.h>

#include <algorithm>
#include <sstream>

namespace banger::test {

using nlohmann::json;

namespace {
// Registered before main(): gtest sets environments up only if they exist by then.
[[maybe_unused]] TestHost& registeredHost = testHost();
}  // namespace

ProcessResult run(std::vector<std::string> argv, std::chrono::seconds timeout) {
  Command c(std::move(argv));
  c.timeout = timeout;
  return SystemProcessRunner().run(c);
}

std::map<std::string, std::string> procStatus(pid_t pid) {
  std::map<std::string, std::string> out;
  std::istringstream lines(readFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto value = line.find_first_not_of(" \t", colon + 1);
    out[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return out;
}

void NetNs::SetUp() {
  if (geteuid() != 0) {
    GTEST_SKIP() << "the netns suite needs root (namespaces, TAPs, polkitd); CI runs it as root";
  }
  BusHarness::Options options;
  options.isolateNetwork = true;
  harness = std::make_unique<BusHarness>(options);
  ns = harness->netns();
}

void NetNs::TearDown() {
  for (const pid_t pid : helpers) stopProcess(pid);
}

std::string NetNs::call(const std::string& user, std::vector<std::string> args) {
  std::vector<std::string> argv{BANGER_NET_CALL_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  if (!user.empty()) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"});
  }
  Command c(argv);
  c.extraEnv = harness->clientEnvironment();
  c.timeout = std::chrono::seconds(60);
  const auto r = SystemProcessRunner().run(c);
  EXPECT_TRUE(r.ok()) << r.err;
  std::string out = r.out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

LeaseLine NetNs::parseLease(const std::string& line) {
  std::istringstream words(line);
  std::string ok;
  LeaseLine l;
  words >> ok >> l.tap >> l.mac >> l.address >> l.prefix >> l.gateway;
  EXPECT_EQ(ok, "ok") << line;
  return l;
}

json NetNs::links() {
  const auto r = run({"ip", "-n", ns, "-d", "-j", "link", "show"});
  EXPECT_TRUE(r.ok()) << r.err;
  return json::parse(r.out);
}

json NetNs::link(const std::string& name) {
  for (auto& l : links()) {
    if (l["ifname"] == name) return l;
  }
  return json();
}

std::set<std::string> NetNs::tapNames() {
  std::set<std::string> out;
  for (auto& l : links()) {
    if (l["ifname"].get<std::string>().rfind("bg-", 0) == 0) out.insert(l["ifname"]);
  }
  return out;
}

void NetNs::expectOwnedBridgedTap(const std::string& tap, const std::string& owner) {
  const json l = link(tap);
  ASSERT_FALSE(l.is_null()) << tap << " does not exist";
  EXPECT_EQ(l["linkinfo"]["info_kind"], "tun");
  EXPECT_EQ(l["linkinfo"]["info_data"]["type"], "tap");
  EXPECT_EQ(l["linkinfo"]["info_data"]["persist"], true);
  EXPECT_EQ(l["linkinfo"]["info_data"]["user"], owner);
  EXPECT_EQ(l["master"], "banger0");
  const auto& flags = l["flags"];
  EXPECT_NE(std::find(flags.begin(), flags.end(), "UP"), flags.end()) << l.dump();
}

void NetNs::sysctlForward(int value) {
  const auto r = run(
      {"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=" + std::to_string(value)});
  ASSERT_TRUE(r.ok()) << r.err;
}

std::optional<json> NetNs::inetTable() {
  const auto r = run({"ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", "banger"});
  if (!r.ok()) return std::nullopt;
  return json::parse(r.out);
}

std::set<std::string> NetNs::setElements(const json& table, const std::string& set) {
  std::set<std::string> out;
  for (const auto& item : table["nftables"]) {
    if (item.contains("set") && item["set"]["name"] == set && item["set"].contains("elem")) {
      for (const auto& e : item["set"]["elem"]) {
        out.insert(e.is_string() ? e.get<std::string>() : e.dump());
      }
    }
  }
  return out;
}

void NetNs::holdTap(const std::string& tap, const std::string& user) {
  const auto log = harness->root() / ("hold-" + tap + ".log");
  helpers.push_back(
      spawnBackground({"ip", "netns", "exec", ns, "setpriv", "--reuid=" + user, "--regid=" + user,
                       "--init-groups", BANGER_TAP_GUEST_BIN, "hold", tap},
                      {}, log));
  ASSERT_TRUE(waitFor([&] { return readFile(log).find("held") != std::string::npos; },
                      std::chrono::seconds(5)))
      << readFile(log);
}

void NetNs::killNetAndWait() {
  auto bus = harness->connectSystem();
  const pid_t pid = nameOwnerPid(*bus, "org.banger.Net");
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  ASSERT_TRUE(
      waitFor([&] { return !nameHasOwner(*bus, "org.banger.Net"); }, std::chrono::seconds(5)));
}

bool NetNs::attached(const std::string& tap) {
  const json l = link(tap);
  if (l.is_null()) return false;
  const auto& flags = l["flags"];
  return std::find(flags.begin(), flags.end(), "LOWER_UP") != flags.end();
}

FakeResolved::FakeResolved(const BusHarness& harness) : bus_(harness.connectSystem()) {
  object_ = sdbus::createObject(*bus_, "/org/freedesktop/resolve1");
  const char* manager = "org.freedesktop.resolve1.Manager";
  using Server = sdbus::Struct<int32_t, std::vector<uint8_t>, uint16_t, std::string>;
  object_->registerMethod("SetLinkDNSEx")
      .onInterface(manager)
      .implementedAs([this](int32_t index, const std::vector<Server>& servers) {
        std::lock_guard lock(mutex_);
        log_.push_back("dns " + std::to_string(index));
        for (const auto& s : servers) {
          const auto& a = s.get<1>();
          log_.push_back("server " + std::to_string(s.get<0>()) + " " + std::to_string(a[0]) + "." +
                         std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
                         std::to_string(a[3]) + ":" + std::to_string(s.get<2>()));
        }
      });
  object_->registerMethod("SetLinkDomains")
      .onInterface(manager)
      .implementedAs(
          [this](int32_t index, const std::vector<sdbus::Struct<std::string, bool>>& domains) {
            std::lock_guard lock(mutex_);
            for (const auto& d : domains) {
              log_.push_back("domain " + std::to_string(index) + " " + d.get<0>() +
                             (d.get<1>() ? " route-only" : ""));
            }
          });
  object_->registerMethod("RevertLink").onInterface(manager).implementedAs([this](int32_t index) {
    std::lock_guard lock(mutex_);
    log_.push_back("revert " + std::to_string(index));
  });
  object_->finishRegistration();
  bus_->requestName("org.freedesktop.resolve1");
  bus_->enterEventLoopAsync();
}

FakeResolved::~FakeResolved() { bus_->leaveEventLoop(); }

std::vector<std::string> FakeResolved::calls() {
  std::lock_guard lock(mutex_);
  return log_;
}

}  // namespace banger::test
