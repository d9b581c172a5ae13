#include "net_config.h"

#include <toml++/toml.h>

#include "banger/errors.h"
#include "banger/files.h"

namespace banger::net {
namespace {
[[noreturn]] void configError(const std::string& source, const std::string& key,
                              const std::string& problem) {
  fail(ErrorCode::InvalidArgument, source + ": " + key + ": " + problem);
}

const std::string& stringOf(const toml::node& node, const std::string& source,
                            const std::string& key) {
  const auto* s = node.as_string();
  if (s == nullptr) configError(source, key, "must be a string");
  return s->get();
}

uint32_t intOf(const toml::node& node, const std::string& source, const std::string& key,
               int64_t min, int64_t max) {
  const auto* i = node.as_integer();
  if (i == nullptr || i->get() < min || i->get() > max) {
    configError(source, key,
                "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<uint32_t>(i->get());
}
}  // namespace

NetConfig parseNetConfig(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    configError(source, "line " + std::to_string(e.source().begin.line),
                std::string(e.description()));
  }
  NetConfig config;
  bool gatewaySet = false;
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    if (name == "subnet") {
      auto subnet = Ipv4Network::parse(stringOf(node, source, name));
      if (!subnet)
        configError(source, name,
                    "must be an IPv4 network like \"172.16.0.0/24\" (/8 to /30, host bits zero)");
      config.subnet = *subnet;
    } else if (name == "gateway") {
      auto gateway = Ipv4::parse(stringOf(node, source, name));
      if (!gateway) configError(source, name, "must be an IPv4 address");
      config.gateway = *gateway;
      gatewaySet = true;
    } else if (name == "pool_size") {
      config.poolSize = intOf(node, source, name, 0, 16);
    } else if (name == "max_leases_per_uid") {
      config.maxLeasesPerUid = intOf(node, source, name, 1, 4096);
    } else if (name == "fallback_nameservers") {
      const auto* array = node.as_array();
      if (array == nullptr) configError(source, name, "must be an array of IPv4 addresses");
      config.fallbackNameservers.clear();
      for (const auto& element : *array) {
        const auto* s = element.as_string();
        if (s == nullptr || !Ipv4::parse(s->get())) {
          configError(source, name, "must be an array of IPv4 addresses");
        }
        config.fallbackNameservers.push_back(s->get());
      }
    } else {
      configError(source, name,
                  "unknown key (known: subnet, gateway, pool_size, max_leases_per_uid, "
                  "fallback_nameservers)");
    }
  }
  if (!gatewaySet) config.gateway = config.subnet.firstHost();
  if (!config.subnet.contains(config.gateway) || config.gateway == config.subnet.base ||
      config.gateway == config.subnet.broadcast()) {
    configError(source, "gateway",
                config.gateway.str() + " is not a host address of " + config.subnet.str());
  }
  return config;
}

NetConfig loadNetConfig(const std::filesystem::path& file) {
  const auto text = readTextFileIfExists(file);
  return text ? parseNetConfig(*text, file.string()) : NetConfig{};
}

}  // namespace banger::net
