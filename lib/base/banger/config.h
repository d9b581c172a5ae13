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
  std::optional<uint32_t> mode;  // a file's permission bits in the guest; absent = 0600
};

// A [[catalog]] entry: a kernel others publish as a bundle (docs/images.md).
struct CatalogBundle {
  std::string name;
  std::string kind;  // "kernel"
  std::string url;   // http(s)
  std::string sha256;
  std::string description;
};

struct Config {
  std::optional<std::string> defaultImage;
  std::optional<std::string> defaultKernel;
  std::optional<std::string> sshKeyPath;
  std::optional<std::string> firecrackerBin;
  // How long a starting VM has to answer on SSH before it is left in `error` (default 90).
  std::optional<uint32_t> sshWaitSec;
  std::optional<std::string> logLevel;
  VmDefaultsConfig vmDefaults;
  std::vector<FileSyncEntry> fileSync;
  // Image service (docs/images.md): caps on what one image may hold, and registries
  // (host[:port]) that may be reached over plain HTTP.
  std::optional<uint64_t> imageMaxBytes;
  std::optional<uint64_t> imageMaxEntries;
  std::vector<std::string> insecureRegistries;
  // Where Debian's packages come from (kernels and the default image): the archive and
  // its security suite, each a http(s) URL without a trailing '/'.
  std::optional<std::string> debianMirror;
  std::optional<std::string> debianSecurityMirror;
  std::vector<CatalogBundle> catalog;
};

// Parses config text. `source` names the file in messages; `home` expands "~/" in host
// paths. Throws banger::Error(InvalidArgument) naming the offending key or entry.
Config parseConfig(std::string_view text, const std::string& source,
                   const std::filesystem::path& home);

// Reads and parses `file`; a missing file is an empty configuration.
Config loadConfig(const std::filesystem::path& file, const std::filesystem::path& home);

}  // namespace banger
