#include "vm_defaults.h"

#include <unistd.h>

#include <algorithm>

namespace banger {

std::string provenanceName(Provenance p) {
  switch (p) {
    case Provenance::Flag:
      return "flag";
    case Provenance::Config:
      return "config";
    case Provenance::Auto:
      return "auto";
    case Provenance::Builtin:
      return "builtin";
  }
  return "builtin";
}

HostFacts SystemHostProbe::facts() const {
  HostFacts f;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  f.cpus = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long pageSize = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && pageSize > 0)
    f.ramBytes = static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize);
  return f;
}

namespace {
// A heuristic below the floor is replaced by the floor, and then it is the floor that decided.
template <class T>
Resolved<T> pick(const std::optional<T>& configured, T heuristic, T floor) {
  if (configured) return {*configured, Provenance::Config};
  if (heuristic >= floor) return {heuristic, Provenance::Auto};
  return {floor, Provenance::Builtin};
}
}  // namespace

VmDefaults resolveVmDefaults(const VmDefaultsConfig& config, const HostFacts& host) {
  VmDefaults d;
  d.vcpu = pick<uint32_t>(config.vcpu, std::min(host.cpus / 4, 4U), kFloorVcpu);
  const uint64_t ramMib = host.ramBytes >> 20;
  d.memoryMib =
      pick<uint32_t>(config.memoryMib, static_cast<uint32_t>(std::min<uint64_t>(ramMib / 8, 8192)),
                     kFloorMemoryMib);
  d.diskBytes = pick<uint64_t>(config.diskBytes, 8ULL << 30, kFloorDiskBytes);
  return d;
}

}  // namespace banger
