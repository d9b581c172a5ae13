#include "banger/config.h"

#include "banger/errors.h"
#include "banger/files.h"
#include "banger/log.h"
#include "banger/size.h"
#include "banger/toml_fields.h"
#include "config_sources.h"

namespace banger {
namespace {

bool hasDotDot(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

std::string checkHostPath(const std::string& raw, const std::string& source,
                          const std::string& where, const std::filesystem::path& home) {
  if (raw.empty()) configError(source, where, "is empty");
  if (raw[0] == '~' && raw.rfind("~/", 0) != 0) {
    configError(source, where, "'" + raw + "': only ~/ (your own home) is supported, not ~user/");
  }
  if (raw[0] != '/' && raw[0] != '~') {
    configError(source, where, "'" + raw + "' is relative; use an absolute path or ~/...");
  }
  if (hasDotDot(raw)) configError(source, where, "'" + raw + "' must not contain '..'");
  if (raw[0] == '~') return (home / raw.substr(2)).string();
  return raw;
}

std::string checkGuestPath(const std::string& raw, const std::string& source,
                           const std::string& where) {
  if (raw.empty()) configError(source, where, "is empty");
  if (raw[0] == '~' && raw.rfind("~/", 0) != 0) {
    configError(source, where,
                "'" + raw + "': only ~/ (root's home in the guest) is supported, not ~user/");
  }
  const bool inHome = (raw.rfind("~/", 0) == 0 && raw.size() > 2) ||
                      (raw.rfind("/root/", 0) == 0 && raw.size() > 6);
  if (!inHome) {
    configError(source, where,
                "'" + raw + "' is outside the guest home; use a path under ~/ or /root/");
  }
  if (hasDotDot(raw)) configError(source, where, "'" + raw + "' must not contain '..'");
  return raw;
}

uint32_t checkMode(const toml::node& node, const std::string& source, const std::string& where) {
  int64_t value = -1;
  if (const auto* i = node.as_integer()) {
    value = i->get();
  } else if (const auto* s = node.as_string()) {
    const std::string& text = s->get();
    if (text.size() >= 3 && text.size() <= 4 &&
        text.find_first_not_of("01234567") == std::string::npos) {
      value = std::stol(text, nullptr, 8);
    }
  }
  if (value < 0 || value > 0777) {
    configError(source, where, "must be an octal permission like \"0644\" (at most 0777)");
  }
  return static_cast<uint32_t>(value);
}

uint64_t sizeValue(const toml::node& node, const std::string& source, const std::string& name,
                   uint64_t minimum, const char* minimumText) {
  std::optional<uint64_t> bytes;
  if (const auto* s = node.as_string()) bytes = parseSize(s->get());
  if (const auto* i = node.as_integer(); i && i->get() > 0) bytes = static_cast<uint64_t>(i->get());
  if (!bytes) configError(source, name, "must be a size like \"8G\" or a number of bytes");
  if (*bytes < minimum) configError(source, name, std::string("must be at least ") + minimumText);
  return *bytes;
}

// host or host:port, as a registry is named in an image reference.
std::string checkRegistryHost(const toml::node& node, const std::string& source,
                              const std::string& where) {
  const std::string& host = tomlString(node, source, where);
  const bool ok = !host.empty() && host.size() <= 255 &&
                  host.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == std::string::npos;
  if (!ok) configError(source, where, "'" + host + "' is not a registry host[:port]");
  return host;
}

void parseVmDefaults(const toml::table& table, const std::string& source, VmDefaultsConfig& out) {
  for (const auto& [key, node] : table) {
    const std::string name = "vm_defaults." + std::string(key.str());
    if (key == "vcpu") {
      out.vcpu = static_cast<uint32_t>(tomlInt(node, source, name, 1, 32));
    } else if (key == "memory_mib") {
      out.memoryMib = static_cast<uint32_t>(tomlInt(node, source, name, 128, 1 << 20));
    } else if (key == "disk_size") {
      out.diskBytes = sizeValue(node, source, name, 256ULL << 20, "256M");
    } else {
      configError(source, name, "unknown key (known: vcpu, memory_mib, disk_size)");
    }
  }
}

FileSyncEntry parseFileSync(const toml::node& node, size_t index, const std::string& source,
                            const std::filesystem::path& home) {
  const std::string entry = "file_sync entry " + std::to_string(index + 1);
  const auto* table = node.as_table();
  if (table == nullptr) configError(source, entry, "must be a table ([[file_sync]])");
  FileSyncEntry out;
  bool haveHost = false, haveGuest = false;
  for (const auto& [key, value] : *table) {
    const std::string where = entry + ", key '" + std::string(key.str()) + "'";
    if (key == "host") {
      out.host = checkHostPath(tomlString(value, source, where), source, where, home);
      haveHost = true;
    } else if (key == "guest") {
      out.guest = checkGuestPath(tomlString(value, source, where), source, where);
      haveGuest = true;
    } else if (key == "mode") {
      out.mode = checkMode(value, source, where);
    } else {
      configError(source, where, "unknown key (known: host, guest, mode)");
    }
  }
  if (!haveHost) configError(source, entry, "missing 'host'");
  if (!haveGuest) configError(source, entry, "missing 'guest'");
  return out;
}

}  // namespace

Config parseConfig(std::string_view text, const std::string& source,
                   const std::filesystem::path& home) {
  const toml::table root = parseToml(text, source);
  Config config;
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    if (name == "default_image") {
      config.defaultImage = tomlString(node, source, name);
    } else if (name == "default_kernel") {
      config.defaultKernel = tomlString(node, source, name);
    } else if (name == "ssh_key_path") {
      config.sshKeyPath = checkHostPath(tomlString(node, source, name), source, name, home);
    } else if (name == "firecracker_bin") {
      config.firecrackerBin = checkHostPath(tomlString(node, source, name), source, name, home);
    } else if (name == "ssh_wait_sec") {
      config.sshWaitSec = static_cast<uint32_t>(tomlInt(node, source, name, 1, 3600));
    } else if (name == "log_level") {
      log::Level level;
      config.logLevel = tomlString(node, source, name);
      if (!log::parseLevel(*config.logLevel, level)) {
        configError(source, name, "must be one of error, warning, info, debug");
      }
    } else if (name == "vm_defaults") {
      const auto* table = node.as_table();
      if (table == nullptr) configError(source, name, "must be a table ([vm_defaults])");
      parseVmDefaults(*table, source, config.vmDefaults);
    } else if (name == "file_sync") {
      const auto* array = node.as_array();
      if (array == nullptr) configError(source, name, "must be an array of tables ([[file_sync]])");
      for (size_t i = 0; i < array->size(); ++i) {
        config.fileSync.push_back(parseFileSync(*array->get(i), i, source, home));
      }
    } else if (name == "image_max_bytes") {
      config.imageMaxBytes = sizeValue(node, source, name, 16ULL << 20, "16M");
    } else if (name == "image_max_entries") {
      config.imageMaxEntries = static_cast<uint64_t>(tomlInt(node, source, name, 100, 1LL << 32));
    } else if (name == "insecure_registries") {
      const auto* array = node.as_array();
      if (array == nullptr) configError(source, name, "must be an array of \"host[:port]\"");
      for (size_t i = 0; i < array->size(); ++i) {
        config.insecureRegistries.push_back(
            checkRegistryHost(*array->get(i), source, name + " entry " + std::to_string(i + 1)));
      }
    } else if (!parseSourceKey(name, node, source, config)) {
      configError(source, name, "unknown key");
    }
  }
  return config;
}

Config loadConfig(const std::filesystem::path& file, const std::filesystem::path& home) {
  const auto text = readTextFileIfExists(file);
  return text ? parseConfig(*text, file.string(), home) : Config{};
}

}  // namespace banger
