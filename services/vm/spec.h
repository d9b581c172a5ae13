// ResolveSpec's rule (DESIGN §4): each value from the caller's overrides, else config,
// else the host heuristics of vm_defaults, else the built-in floor; with where each
// value came from.
#pragma once

#include <map>
#include <string>

#include "banger/config.h"
#include "banger/vm_spec.h"
#include "vm_defaults.h"

namespace banger::vm {

inline constexpr const char* kBuiltinImage = "debian-bookworm";
inline constexpr const char* kBuiltinKernel = "debian-cloud";

struct ResolvedSpec {
  VmSpec spec;                                    // every field set but perhaps the name
  std::map<std::string, std::string> provenance;  // spec key → flag|config|auto|builtin
};

ResolvedSpec resolveSpec(const VmSpec& overrides, const Config& config, const HostFacts& host);

}  // namespace banger::vm
