// config.toml's keys about where images and kernels come from, parsed apart from the rest.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "banger/config.h"

namespace banger {

// Parses debian_mirror, debian_security_mirror or [[catalog]] into `config`; false when
// `name` is none of them.
bool parseSourceKey(const std::string& name, const toml::node& node, const std::string& source,
                    Config& config);

}  // namespace banger
