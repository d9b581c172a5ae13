// The netns suite's fixture: a private system bus with the project's policy and the real
// polkitd, banger-net activated with its unit's credentials inside a network namespace
// made for the test, and helpers that call it as other uids and look at the kernel.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "banger/process.h"
#include "harness.h"
#include "test_host.h"

namespace banger::test {

ProcessResult run(std::vector<std::string> argv,
                  std::chrono::seconds timeout = std::chrono::seconds(30));

// Fields of /proc/PID/status.
std::map<std::string, std::string> procStatus(pid_t pid);

struct LeaseLine {
  std::string tap, mac, address, prefix, gateway;
};

class NetNs : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // net-call as root (user empty) or as `user`; returns its one output line.
  std::string call(const std::string& user, std::vector<std::string> args);
  static LeaseLine parseLease(const std::string& line);

  nlohmann::json links();
  nlohmann::json link(const std::string& name);  // null when absent
  std::set<std::string> tapNames();
  void expectOwnedBridgedTap(const std::string& tap, const std::string& owner);
  void sysctlForward(int value);
  std::optional<nlohmann::json> inetTable();
  // The elements of a set of table inet banger.
  static std::set<std::string> setElements(const nlohmann::json& table, const std::string& set);
  // Attaches to `tap` as `user`, as Firecracker does, until the test ends.
  void holdTap(const std::string& tap, const std::string& user);
  bool attached(const std::string& tap);
  // kill -9 of banger-net, then until the system bus has seen it go.
  void killNetAndWait();

  TestHost& host = testHost();
  std::unique_ptr<BusHarness> harness;
  std::string ns;
  std::vector<pid_t> helpers;  // stopped by TearDown
};

// Stands in for systemd-resolved on the test system bus and records what it is told.
class FakeResolved {
 public:
  explicit FakeResolved(const BusHarness& harness);
  ~FakeResolved();
  std::vector<std::string> calls();

 private:
  std::unique_ptr<sdbus::IConnection> bus_;
  std::unique_ptr<sdbus::IObject> object_;
  std::mutex mutex_;
  std::vector<std::string> log_;
};

}  // namespace banger::test
