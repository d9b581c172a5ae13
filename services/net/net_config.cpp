#include "net_config.h"

#include "banger/errors.h"
#include "banger/files.h"
#include "banger/toml_fields.h"

namespace banger::net {

NetConfig parseNetConfig(std::string_view text, const std::string& source) {
  const toml::table root = parseToml(text, source);
  NetConfig config;
  bool gatewaySet = false;
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    if (name == "subnet") {
      auto subnet = Ipv4Network::parse(tomlString(node, source, name));
      if (!subnet)
        configError(source, name,
                    "must be an IPv4 network like \"172.16.0.0/24\" (/8 to /30, host bits zero)");
      config.subnet = *subnet;
    } else if (name == "gateway") {
      auto gateway = Ipv4::parse(tomlString(node, source, name));
      if (!gateway) configError(source, name, "must be an IPv4 address");
      config.gateway = *gateway;
      gatewaySet = true;
    } else if (name == "pool_size") {
      config.poolSize = static_cast<uint32_t>(tomlInt(node, source, name, 0, 16));
    } else if (name == "max_leases_per_uid") {
      config.maxLeasesPerUid = static_cast<uint32_t>(tomlInt(node, source, name, 1, 4096));
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
    } else if (name == "dns_listen") {
      const auto endpoint = Ipv4Endpoint::parse(tomlString(node, source, name));
      if (!endpoint || !endpoint->address.isLoopback() || endpoint->port >= 1024) {
        configError(source, name,
                    "must be a loopback address and a port below 1024, like \"127.0.0.1:42\" "
                    "(a higher port any local user could take first)");
      }
      config.dnsListen = *endpoint;
    } else {
      configError(source, name,
                  "unknown key (known: subnet, gateway, pool_size, max_leases_per_uid, "
                  "fallback_nameservers, dns_listen)");
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
