// Reading TOML configuration with errors that name the file and the key.
#pragma once

#include <toml++/toml.h>
#include <cstdint>
#include <string>
#include <string_view>

namespace banger {

// Throws banger::Error(InvalidArgument): "<source>: <where>: <problem>".
[[noreturn]] void configError(const std::string& source, const std::string& where,
                              const std::string& problem);

// Parses `text`; a syntax error names the line.
toml::table parseToml(std::string_view text, const std::string& source);

const std::string& tomlString(const toml::node& node, const std::string& source,
                              const std::string& key);
int64_t tomlInt(const toml::node& node, const std::string& source, const std::string& key,
                int64_t min, int64_t max);

}  // namespace banger
