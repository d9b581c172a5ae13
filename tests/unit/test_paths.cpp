#include <gtest/gtest.h>

#include "banger/paths.h"

using namespace banger;

namespace {
EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(Paths, FollowXdg) {
  const auto p = UserPaths::resolve(fakeEnv({{"HOME", "/home/ada"},
                                             {"XDG_CONFIG_HOME", "/cfg"},
                                             {"XDG_STATE_HOME", "/st"},
                                             {"XDG_CACHE_HOME", "/ca"},
                                             {"XDG_RUNTIME_DIR", "/run/user/1000"}}));
  EXPECT_EQ(p.configFile(), "/cfg/banger/config.toml");
  EXPECT_EQ(p.stateDir, "/st/banger");
  EXPECT_EQ(p.cacheDir, "/ca/banger");
  EXPECT_EQ(p.runtimeDir, "/run/user/1000/banger");
}

TEST(Paths, FallBackUnderHome) {
  const auto p =
      UserPaths::resolve(fakeEnv({{"HOME", "/home/ada"}, {"XDG_CONFIG_HOME", "relative"}}));
  EXPECT_EQ(p.configDir,
            "/home/ada/.config/banger");  // a relative XDG value is ignored, as the spec says
  EXPECT_EQ(p.stateDir, "/home/ada/.local/state/banger");
  EXPECT_EQ(p.cacheDir, "/home/ada/.cache/banger");
}

TEST(Paths, EachRootHasItsOwnOverride) {
  const auto p = UserPaths::resolve(fakeEnv({{"HOME", "/home/ada"},
                                             {"XDG_STATE_HOME", "/st"},
                                             {"BANGER_CONFIG_DIR", "/t/c"},
                                             {"BANGER_STATE_DIR", "/t/s"},
                                             {"BANGER_CACHE_DIR", "/t/ca"},
                                             {"BANGER_RUNTIME_DIR", "/t/r"}}));
  EXPECT_EQ(p.configDir, "/t/c");
  EXPECT_EQ(p.stateDir, "/t/s");
  EXPECT_EQ(p.cacheDir, "/t/ca");
  EXPECT_EQ(p.runtimeDir, "/t/r");
  const auto s = SystemPaths::resolve(fakeEnv({{"BANGER_NET_CONFIG", "/t/net.toml"}}));
  EXPECT_EQ(s.netConfigFile, "/t/net.toml");
  EXPECT_EQ(s.netStateDir, "/var/lib/banger");
}
