// What tests that act as other local users need on the machine (root only): the group
// "banger", members banger-t1..t5, an outsider banger-tout, the tree's polkit action and
// rules (always the tree's: an installed copy is set aside and put back afterwards), and
// /dev/net/tun open to users as Debian's udev makes it. Registered once per test binary.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace banger::test {

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

class TestHost : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  std::vector<TestUser> members;  // in the banger group
  TestUser outsider;              // not in it

 private:
  void install(const std::filesystem::path& from, const std::filesystem::path& to);
  struct Installed {
    std::filesystem::path file;
    std::filesystem::path original;  // where an existing copy waits; empty if none
  };
  std::vector<Installed> installed_;
  std::filesystem::path aside_;
  std::filesystem::perms tunMode_{};
};

// The environment, registered on first use.
TestHost& testHost();

}  // namespace banger::test
