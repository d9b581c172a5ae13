#include "harness.h"

#include "banger/process.h"
#include "unit_credentials.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace banger::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "banger-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string readFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeFile(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

int listenOnUnixSocket(const std::filesystem::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 32) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot listen on " + path.string() + ": " + why);
  }
  return fd;
}

std::vector<std::string> environmentWith(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    if (overrides.count(entry.substr(0, entry.find('='))) == 0) out.push_back(std::move(entry));
  }
  for (const auto& [k, v] : overrides) out.push_back(k + "=" + v);
  return out;
}

pid_t spawnBackground(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env,
                      const std::filesystem::path& logFile) {
  std::vector<std::string> envStrings = environmentWith(env);
  std::vector<char*> envp, args;
  for (auto& e : envStrings) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (logFile != "/dev/stdout") {  // "/dev/stdout" keeps the caller's stdout and stderr
    posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

void stopProcess(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
}

std::filesystem::path makeLibexec(const std::filesystem::path& root) {
  const auto libexec = root / "libexec";
  std::filesystem::create_directories(libexec / "banger");
  for (const auto& [name, built] :
       std::map<std::string, std::string>{{"banger-vm", BANGER_VM_BIN},
                                          {"banger-image", BANGER_IMAGE_BIN},
                                          {"banger-dns", BANGER_DNS_BIN},
                                          {"banger-net", BANGER_NET_BIN}}) {
    std::filesystem::create_symlink(built, libexec / "banger" / name);
  }
  return libexec;
}

bool nameHasOwner(sdbus::IConnection& bus, const std::string& name) {
  auto proxy = sdbus::createProxy(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus");
  bool owned = false;
  proxy->callMethod("NameHasOwner")
      .onInterface("org.freedesktop.DBus")
      .withArguments(name)
      .storeResultsTo(owned);
  return owned;
}

pid_t nameOwnerPid(sdbus::IConnection& bus, const std::string& name) {
  auto proxy = sdbus::createProxy(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus");
  uint32_t pid = 0;
  proxy->callMethod("GetConnectionUnixProcessID")
      .onInterface("org.freedesktop.DBus")
      .withArguments(name)
      .storeResultsTo(pid);
  return static_cast<pid_t>(pid);
}

uint16_t freeLoopbackPort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof sa;
    bind(tcp, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    getsockname(tcp, reinterpret_cast<sockaddr*>(&sa), &length);
    const int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const bool udpFree = bind(udp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    close(udp);
    close(tcp);
    if (udpFree) return ntohs(sa.sin_port);
  }
  throw std::runtime_error("no free loopback port");
}

sdbus::Error callError(const std::function<void()>& call) {
  try {
    call();
  } catch (const sdbus::Error& e) {
    return e;
  }
  ADD_FAILURE() << "the call succeeded";
  return sdbus::Error("none", "none");
}

std::string BusHarness::policyFor(const std::string& kind) const {
  if (kind == "session") {
    return "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
           "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>";
  }
  // The stock system bus default policy, then the project's policy for org.banger.Net.
  return std::string(R"(<policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
  </policy>
  <policy user="root">
    <!-- the netns suite stands in for systemd-resolved -->
    <allow own="org.freedesktop.resolve1"/>
    <allow send_destination="org.freedesktop.resolve1"/>
  </policy>
  <include>)") +
         BANGER_SOURCE_DIR +
         "/dbus-policy/org.banger.Net.conf</include>\n"
         "  <includedir>/usr/share/dbus-1/system.d</includedir>\n";
}

void BusHarness::startBus(const std::string& kind, const std::string& services,
                          std::string& address, pid_t& pid) {
  const auto socket = dir_.path() / (kind + ".sock");
  address = "unix:path=" + socket.string();
  const auto config = dir_.path() / (kind + ".conf");
  writeFile(config,
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
            " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig>\n"
            "  <type>" +
                kind + "</type>\n  <listen>" + address +
                "</listen>\n"
                "  <auth>EXTERNAL</auth>\n  <servicedir>" +
                services + "</servicedir>\n  " + policyFor(kind) + "\n</busconfig>\n");
  std::vector<std::string> argv{"dbus-daemon", "--nofork", "--nopidfile",
                                "--config-file=" + config.string()};
  if (namespace_) argv = namespace_->exec(argv);
  pid = spawnBackground(argv, env_, dir_.path() / (kind + "-bus.log"));
  // A connect that succeeds, not the socket file: bind() makes the file a moment before
  // listen(), and a connect in between is refused (seen under load in CI).
  const auto accepting = [&] {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un where{};
    where.sun_family = AF_UNIX;
    std::snprintf(where.sun_path, sizeof where.sun_path, "%s", socket.c_str());
    const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) == 0;
    ::close(fd);
    return connected;
  };
  if (!waitFor(accepting, std::chrono::seconds(10))) {
    throw std::runtime_error("the " + kind + " bus did not start; see " +
                             (dir_.path() / (kind + "-bus.log")).string());
  }
}

BusHarness::BusHarness(Options options) : options_(options) {
  const auto& root = dir_.path();
  // Other users (polkitd, test callers with other uids) must reach the bus sockets.
  std::filesystem::permissions(root, std::filesystem::perms(0755));
  const auto libexec = makeLibexec(root);
  const std::string extra =
      " --idle-timeout " + std::to_string(options_.idleTimeoutSec) + " --log-level debug";
  const std::filesystem::path policy = BANGER_SOURCE_DIR "/dbus-policy";
  for (const auto& name : {"org.banger.Vm", "org.banger.Image", "org.banger.Dns"}) {
    writeFile(root / "services" / (std::string(name) + ".service"),
              replaceAll(replaceAll(readFile(policy / (std::string(name) + ".service.in")),
                                    "@LIBEXECDIR@", libexec.string()),
                         "@EXTRA_ARGS@", extra));
  }
  std::string netExec = "Exec=";
  if (geteuid() == 0) {
    // As its unit runs it: only the capabilities banger-net.service grants, not root's.
    for (const auto& word : UnitCredentials::load(netUnitTemplate()).setprivPrefix()) {
      netExec += word + " ";
    }
  }
  writeFile(root / "system-services/org.banger.Net.service",
            replaceAll(replaceAll(replaceAll(readFile(policy / "org.banger.Net.service.in"),
                                             "Exec=", netExec),
                                  "@LIBEXECDIR@", libexec.string()),
                       "@EXTRA_ARGS@", extra));

  env_ = {{"HOME", (root / "home").string()},
          {"BANGER_CONFIG_DIR", (root / "config").string()},
          {"BANGER_STATE_DIR", (root / "state").string()},
          {"BANGER_CACHE_DIR", (root / "cache").string()},
          {"BANGER_RUNTIME_DIR", (root / "run").string()},
          {"BANGER_NET_CONFIG", (root / "etc/net.toml").string()},
          {"BANGER_NET_STATE_DIR", (root / "var").string()},
          // The build's banger-init and banger-agent, for the initrds and images it writes.
          {"BANGER_GUEST_DIR", BANGER_BUILD_DIR "/agent"}};
  std::filesystem::create_directories(root / "home");
  dnsPort_ = freeLoopbackPort();
  dnsAddress_ = "127.0.0.1:" + std::to_string(dnsPort_);
  env_["BANGER_DNS_LISTEN"] = dnsAddress_;
  if (options_.isolateNetwork) {
    namespace_ = std::make_unique<NetworkNamespace>("bus");
    netns_ = namespace_->name();
    env_["BANGER_TEST_NETNS"] = netns_;  // for commands that want to reach the daemons' network
  }
  if (options_.systemBus) {
    systemAddress_ = "unix:path=" + (root / "system.sock").string();
    env_["DBUS_SYSTEM_BUS_ADDRESS"] = systemAddress_;
    startBus("system", (root / "system-services").string(), systemAddress_, systemPid_);
  }
  sessionAddress_ = "unix:path=" + (root / "session.sock").string();
  env_["DBUS_SESSION_BUS_ADDRESS"] = sessionAddress_;
  startBus("session", (root / "services").string(), sessionAddress_, sessionPid_);

  if (options_.systemBus && options_.polkit && access("/usr/lib/polkit-1/polkitd", X_OK) == 0) {
    // Started as root, polkitd switches to its own user, the only one the bus policy
    // lets own org.freedesktop.PolicyKit1 (hence the readable temp root above).
    polkitPid_ =
        spawnBackground({"/usr/lib/polkit-1/polkitd", "--no-debug"}, env_, root / "polkitd.log");
    auto bus = connectSystem();
    if (!waitFor([&] { return nameHasOwner(*bus, "org.freedesktop.PolicyKit1"); },
                 std::chrono::seconds(15))) {
      const std::string log = readFile(root / "polkitd.log") + readFile(root / "system-bus.log");
      stopAll();
      throw std::runtime_error("polkitd did not come up on the test system bus:\n" + log);
    }
  }
}

BusHarness::~BusHarness() { stopAll(); }

namespace {
void runOrThrow(const std::vector<std::string>& argv) {
  const auto r = SystemProcessRunner().run(Command(argv));
  if (!r.ok()) {
    std::string line;
    for (const auto& a : argv) line += a + " ";
    throw std::runtime_error(line + "failed: " + r.err);
  }
}
}  // namespace

NetworkNamespace::NetworkNamespace(const std::string& label) {
  static int counter = 0;
  name_ = "banger-t" + std::to_string(getpid()) + "-" + label + std::to_string(counter++);
  runOrThrow({"ip", "netns", "add", name_});
  runOrThrow({"ip", "-n", name_, "link", "set", "lo", "up"});
}

NetworkNamespace::~NetworkNamespace() {
  SystemProcessRunner().run(Command({"ip", "netns", "del", name_}));
}

std::vector<std::string> NetworkNamespace::exec(std::vector<std::string> argv) const {
  // nsenter, not `ip netns exec`: the latter remounts /sys in a mount namespace of its own,
  // which hides the cgroup hierarchy firecracker-sim's systemd-nspawn needs.
  argv.insert(argv.begin(), {"nsenter", "--net=/run/netns/" + name_});
  return argv;
}

void BusHarness::stopAll() {
  stopProcess(polkitPid_);
  // Activated daemons exit with their bus.
  stopProcess(sessionPid_);
  stopProcess(systemPid_);
  polkitPid_ = sessionPid_ = systemPid_ = -1;
}

std::map<std::string, std::string> BusHarness::clientEnvironment() const { return env_; }

std::unique_ptr<sdbus::IConnection> BusHarness::connectSession() const {
  return sdbus::createSessionBusConnectionWithAddress(sessionAddress_);
}

std::unique_ptr<sdbus::IConnection> BusHarness::connectSystem() const {
  // sdbus-c++ 1.2 has no system-bus variant taking an address; this one only names the
  // address, which is all the test needs.
  return sdbus::createSessionBusConnectionWithAddress(systemAddress_);
}

Shell shell(const std::string& command) {
  Shell outcome;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return outcome;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) outcome.out.append(buffer, n);
  const int status = pclose(pipe);
  outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

}  // namespace banger::test
