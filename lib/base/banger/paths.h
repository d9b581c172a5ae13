// Where banger keeps things. Each root follows XDG and can be overridden by its own
// environment variable (BANGER_CONFIG_DIR, BANGER_STATE_DIR, BANGER_CACHE_DIR,
// BANGER_RUNTIME_DIR; root side: BANGER_NET_CONFIG, BANGER_NET_STATE_DIR) so tests run
// in temporary directories.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace banger {

// Looks up an environment variable; injected so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnvironment();

struct UserPaths {
  std::filesystem::path home;
  std::filesystem::path configDir;   // ~/.config/banger
  std::filesystem::path stateDir;    // ~/.local/state/banger
  std::filesystem::path cacheDir;    // ~/.cache/banger
  std::filesystem::path runtimeDir;  // $XDG_RUNTIME_DIR/banger

  std::filesystem::path configFile() const { return configDir / "config.toml"; }
  static UserPaths resolve(const EnvLookup& env);
};

struct SystemPaths {
  std::filesystem::path netConfigFile;  // /etc/banger/net.toml
  std::filesystem::path netStateDir;    // /var/lib/banger

  static SystemPaths resolve(const EnvLookup& env);
};

}  // namespace banger
