// config.toml's keys about where images and kernels come from (docs/configuration.md).
#include "config_sources.h"

#include "banger/toml_fields.h"

namespace banger {
namespace {

std::string mirrorUrl(const toml::node& node, const std::string& source, const std::string& key) {
  std::string url = tomlString(node, source, key);
  while (url.ends_with('/')) url.pop_back();
  const bool scheme = url.starts_with("http://") || url.starts_with("https://");
  if (!scheme || url.size() < 10 || url.size() > 1024 ||
      url.find_first_of(" \t\n\"'\\") != std::string::npos) {
    // Built by appending: GCC 12's -Wrestrict misfires on "literal" + std::string&& at -O3.
    std::string problem(1, '\'');
    problem.append(url, 0, 80).append("' is not an http:// or https:// URL");
    configError(source, key, problem);
  }
  return url;
}

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 64 ||
      !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
    return false;
  return name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
}

CatalogBundle parseBundle(const toml::node& node, std::size_t index, const std::string& source) {
  const std::string entry = "catalog entry " + std::to_string(index + 1);
  const auto* table = node.as_table();
  if (table == nullptr) configError(source, entry, "must be a table ([[catalog]])");
  CatalogBundle out;
  for (const auto& [key, value] : *table) {
    const std::string where = entry + ", key '" + std::string(key.str()) + "'";
    if (key == "name") {
      out.name = tomlString(value, source, where);
      if (!validName(out.name))
        configError(source, where,
                    "'" + out.name.substr(0, 80) +
                        "' is not a name (lower-case letters, digits, '.', '_', '-')");
    } else if (key == "kind") {
      out.kind = tomlString(value, source, where);
      if (out.kind != "kernel")
        configError(source, where, "must be \"kernel\" (images come from OCI registries)");
    } else if (key == "url") {
      out.url = mirrorUrl(value, source, where);
    } else if (key == "sha256") {
      out.sha256 = tomlString(value, source, where);
      if (out.sha256.size() != 64 ||
          out.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
        configError(source, where, "must be 64 lower-case hex digits");
    } else if (key == "description") {
      out.description = tomlString(value, source, where);
    } else {
      configError(source, where, "unknown key (known: name, kind, url, sha256, description)");
    }
  }
  for (const auto& [field, value] :
       {std::pair{"name", &out.name}, std::pair{"url", &out.url}, std::pair{"sha256", &out.sha256}})
    if (value->empty()) configError(source, entry, std::string("missing '") + field + "'");
  if (out.kind.empty()) out.kind = "kernel";
  return out;
}

}  // namespace

bool parseSourceKey(const std::string& name, const toml::node& node, const std::string& source,
                    Config& config) {
  if (name == "debian_mirror") {
    config.debianMirror = mirrorUrl(node, source, name);
  } else if (name == "debian_security_mirror") {
    config.debianSecurityMirror = mirrorUrl(node, source, name);
  } else if (name == "catalog") {
    const auto* array = node.as_array();
    if (array == nullptr) configError(source, name, "must be an array of tables ([[catalog]])");
    for (std::size_t i = 0; i < array->size(); ++i) {
      CatalogBundle bundle = parseBundle(*array->get(i), i, source);
      for (const CatalogBundle& earlier : config.catalog)
        if (earlier.name == bundle.name)
          configError(source, "catalog entry " + std::to_string(i + 1),
                      "the name '" + bundle.name + "' is given twice");
      config.catalog.push_back(std::move(bundle));
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace banger
