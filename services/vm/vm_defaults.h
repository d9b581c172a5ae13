// vm_defaults resolution (DESIGN §4): config > host heuristics > built-in floor, with the
// provenance of each value so `banger doctor` and ResolveSpec can say where it came from.
#pragma once

#include <cstdint>
#include <string>

#include "banger/config.h"

namespace banger {

enum class Provenance { Flag, Config, Auto, Builtin };
std::string provenanceName(Provenance p);  // "flag", "config", "auto", "builtin"

struct HostFacts {
  unsigned cpus = 1;
  uint64_t ramBytes = 0;
};

// The host as seen by the heuristics; an interface so tests can describe any machine.
class HostProbe {
 public:
  virtual ~HostProbe() = default;
  virtual HostFacts facts() const = 0;
};

class SystemHostProbe : public HostProbe {
 public:
  HostFacts facts() const override;
};

template <class T>
struct Resolved {
  T value{};
  Provenance provenance = Provenance::Builtin;
};

struct VmDefaults {
  Resolved<uint32_t> vcpu;
  Resolved<uint32_t> memoryMib;
  Resolved<uint64_t> diskBytes;
};

inline constexpr uint32_t kFloorVcpu = 1;
inline constexpr uint32_t kFloorMemoryMib = 1024;
inline constexpr uint64_t kFloorDiskBytes = 4ULL << 30;

VmDefaults resolveVmDefaults(const VmDefaultsConfig& config, const HostFacts& host);

}  // namespace banger
