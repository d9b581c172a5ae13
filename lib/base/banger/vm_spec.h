// The spec of a VM (DESIGN §3, CreateVm/ResolveSpec): typed, with its one conversion to
// and from the a{sv} on the bus. The Vm service, the CLI and doctor use it; the keys are
// spelled here only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "banger/options.h"

namespace banger {

namespace spec_keys {
inline constexpr const char* kName = "name";
inline constexpr const char* kImage = "image";
inline constexpr const char* kKernel = "kernel";
inline constexpr const char* kVcpus = "vcpus";
inline constexpr const char* kMemoryMib = "memory_mib";
inline constexpr const char* kDiskBytes = "disk_bytes";
inline constexpr const char* kNat = "nat";
inline constexpr const char* kStart = "start";
}  // namespace spec_keys

// Every field is optional: overrides carry some, a resolved spec carries all but
// perhaps the name (generated at creation when absent).
struct VmSpec {
  std::optional<std::string> name;
  std::optional<std::string> image;
  std::optional<std::string> kernel;
  std::optional<uint32_t> vcpus;
  std::optional<uint32_t> memoryMib;
  std::optional<uint64_t> diskBytes;
  std::optional<bool> nat;
  std::optional<bool> start;

  // Strict: unknown keys, wrong types and a name that is not a VM name are
  // InvalidArgument naming the key (`what` names the dictionary: "spec", "overrides").
  static VmSpec fromVariants(const VariantMap& values, const std::string& what = "spec");
  VariantMap toVariants() const;
  bool operator==(const VmSpec&) const = default;
};

// The a{sv} schema of a spec, for Options::parse.
const std::vector<OptionKey>& vmSpecSchema();

}  // namespace banger
