// Private D-Bus buses for tests: a session bus and a system bus configured with the
// project's own dbus-policy/, activation files made from the project's templates but
// pointing into the build tree, and the real polkitd on the system bus.
#pragma once

#include <sdbus-c++/sdbus-c++.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace banger::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string readFile(const std::filesystem::path& file);
void writeFile(const std::filesystem::path& file, const std::string& text);
std::string replaceAll(std::string text, const std::string& from, const std::string& to);

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// `command` through sh -c, stderr with stdout: its exit status (-1 for a signal) and output.
struct Shell {
  int status = -1;
  std::string out;
};
Shell shell(const std::string& command);

// A listening Unix stream socket at `path` (close-on-exec), for a server under test to
// serve; throws when it cannot be made.
int listenOnUnixSocket(const std::filesystem::path& path);

// This process's environment as "KEY=VALUE" strings, with `overrides` in place of (or
// beside) its own values: what a child started by a test runs with.
std::vector<std::string> environmentWith(const std::map<std::string, std::string>& overrides);

// Starts a program in the background with extra environment; returns its pid.
pid_t spawnBackground(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env,
                      const std::filesystem::path& logFile);
void stopProcess(pid_t pid);

// A temp libexec/banger/ holding links to the built daemons, so installed-layout
// templates (@LIBEXECDIR@/banger/banger-vm) can be used as they are.
std::filesystem::path makeLibexec(const std::filesystem::path& root);

class NetworkNamespace;

class BusHarness {
 public:
  struct Options {
    unsigned idleTimeoutSec = 60;
    bool systemBus = true;
    bool polkit = true;
    // Runs the buses, and so every activated daemon, in a network namespace made for
    // this harness (root only), so banger-net never touches the real host's network.
    bool isolateNetwork = false;
    // A session bus alone: no system bus, no polkitd (the Image service's tests).
    static Options sessionOnly() {
      Options options;
      options.systemBus = false;
      options.polkit = false;
      return options;
    }
  };
  explicit BusHarness(Options options);
  ~BusHarness();

  const std::string& sessionAddress() const { return sessionAddress_; }
  const std::string& systemAddress() const { return systemAddress_; }
  const std::filesystem::path& root() const { return dir_.path(); }
  // The environment a client needs to reach these buses (and banger's temp roots).
  std::map<std::string, std::string> clientEnvironment() const;

  std::unique_ptr<sdbus::IConnection> connectSession() const;
  std::unique_ptr<sdbus::IConnection> connectSystem() const;
  bool polkitRunning() const { return polkitPid_ > 0; }
  // The namespace the daemons run in; empty when not isolated.
  const std::string& netns() const { return netns_; }
  // Where this harness's banger-dns listens (a free port, via BANGER_DNS_LISTEN).
  const std::string& dnsAddress() const { return dnsAddress_; }
  uint16_t dnsPort() const { return dnsPort_; }

 private:
  void startBus(const std::string& kind, const std::string& config, std::string& address,
                pid_t& pid);
  std::string policyFor(const std::string& kind) const;
  std::unique_ptr<NetworkNamespace> namespace_;
  void stopAll();

  Options options_;
  TempDir dir_;
  std::string sessionAddress_, systemAddress_;
  pid_t sessionPid_ = -1, systemPid_ = -1, polkitPid_ = -1;
  std::map<std::string, std::string> env_;
  std::string netns_;
  std::string dnsAddress_;
  uint16_t dnsPort_ = 0;
};

// A port free for both UDP and TCP on 127.0.0.1 right now.
uint16_t freeLoopbackPort();

// `ip netns add` a namespace with a unique name, loopback up; deleted by its destructor.
class NetworkNamespace {
 public:
  explicit NetworkNamespace(const std::string& label);
  ~NetworkNamespace();
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;
  const std::string& name() const { return name_; }
  // Runs a command inside the namespace (nsenter --net, keeping the mount namespace).
  std::vector<std::string> exec(std::vector<std::string> argv) const;

 private:
  std::string name_;
};

bool nameHasOwner(sdbus::IConnection& bus, const std::string& name);
// The pid of the process owning `name` on `bus`.
pid_t nameOwnerPid(sdbus::IConnection& bus, const std::string& name);

// The D-Bus error a call fails with; a call that succeeds fails the test.
sdbus::Error callError(const std::function<void()>& call);

}  // namespace banger::test
