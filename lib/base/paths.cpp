#include "banger/paths.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace banger {

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

namespace {
std::filesystem::path homeDirectory(const EnvLookup& env) {
  if (auto home = env("HOME")) return *home;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return "/";
}

// Override variable first, then $XDG_VAR/banger, then the fallback under the home.
std::filesystem::path pick(const EnvLookup& env, const char* override, const char* xdg,
                           const std::filesystem::path& fallback) {
  if (auto v = env(override)) return *v;
  if (auto v = env(xdg); v && v->front() == '/') return std::filesystem::path(*v) / "banger";
  return fallback / "banger";
}
}  // namespace

UserPaths UserPaths::resolve(const EnvLookup& env) {
  UserPaths p;
  p.home = homeDirectory(env);
  p.configDir = pick(env, "BANGER_CONFIG_DIR", "XDG_CONFIG_HOME", p.home / ".config");
  p.stateDir = pick(env, "BANGER_STATE_DIR", "XDG_STATE_HOME", p.home / ".local/state");
  p.cacheDir = pick(env, "BANGER_CACHE_DIR", "XDG_CACHE_HOME", p.home / ".cache");
  p.runtimeDir = pick(env, "BANGER_RUNTIME_DIR", "XDG_RUNTIME_DIR",
                      std::filesystem::path("/run/user") / std::to_string(getuid()));
  return p;
}

SystemPaths SystemPaths::resolve(const EnvLookup& env) {
  SystemPaths p;
  p.netConfigFile = env("BANGER_NET_CONFIG").value_or("/etc/banger/net.toml");
  p.netStateDir = env("BANGER_NET_STATE_DIR").value_or("/var/lib/banger");
  return p;
}

}  // namespace banger
