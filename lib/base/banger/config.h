// ~/.config/banger/config.toml (DESIGN §4). All keys are optional; unknown keys are
// errors so that typos do not pass silently. Errors name the key or file_sync entry.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger {

struct VmDefaultsConfig {
  std::optional<uint32_t> vcpu;
  std::optional<uint32_t> memoryMib;
  std::optional<uint64_t> diskBytes;
};

struct FileSyncEntry {
  std::string host;              // absolute, "~/" expanded
  std::string guest;             // as written: "~/..." or "/root/..."
  std::optional<uint32_t> mode;  // permission bits; absent = keep the host file's mode
};

struct Config {
  std::optional<std::string> defaultImage;
  std::optional<std::string> defaultKernel;
  std::optional<std::string> sshKeyPath;
  std::optional<std::string> firecrackerBin;
  std::optional<std::string> logLevel;
  VmDefaultsConfig vmDefaults;
  std::vector<FileSyncEntry> fileSync;
  // Image service (docs/images.md): caps on what one image may hold, and registries
  // (host[:port]) that may be reached over plain HTTP.
  std::optional<uint64_t> imageMaxBytes;
  std::optional<uint64_t> imageMaxEntries;
  std::vector<std::string> insecureRegistries;
};

// Parses config text. `source` names the file in messages; `home` expands "~/" in host
// paths. Throws banger::Error(InvalidArgument) naming the offending key or entry.
Config parseConfig(std::string_view text, const std::string& source,
                   const std::filesystem::path& home);

// Reads and parses `file`; a missing file is an empty configuration.
Config loadConfig(const std::filesystem::path& file, const std::filesystem::path& home);

}  // namespace banger
