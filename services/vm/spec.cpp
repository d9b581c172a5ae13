#include "spec.h"

namespace banger::vm {

ResolvedSpec resolveSpec(const VmSpec& overrides, const Config& config, const HostFacts& host) {
  using namespace spec_keys;
  const VmDefaults defaults = resolveVmDefaults(config.vmDefaults, host);
  ResolvedSpec out;
  auto take = [&out](const char* key, auto& field, const auto& flag, auto fallback,
                     Provenance fallbackFrom) {
    field = flag ? *flag : fallback;
    out.provenance[key] = provenanceName(flag ? Provenance::Flag : fallbackFrom);
  };
  auto sized = [&](const char* key, auto& field, const auto& flag, const auto& resolved) {
    take(key, field, flag, resolved.value, resolved.provenance);
  };
  auto named = [&](const char* key, auto& field, const std::optional<std::string>& flag,
                   const std::optional<std::string>& configured, const char* builtin) {
    take(key, field, flag, configured.value_or(builtin),
         configured ? Provenance::Config : Provenance::Builtin);
  };
  VmSpec& spec = out.spec;
  if (overrides.name) {
    spec.name = overrides.name;
    out.provenance[kName] = provenanceName(Provenance::Flag);
  }
  named(kImage, spec.image, overrides.image, config.defaultImage, kBuiltinImage);
  named(kKernel, spec.kernel, overrides.kernel, config.defaultKernel, kBuiltinKernel);
  sized(kVcpus, spec.vcpus, overrides.vcpus, defaults.vcpu);
  sized(kMemoryMib, spec.memoryMib, overrides.memoryMib, defaults.memoryMib);
  sized(kDiskBytes, spec.diskBytes, overrides.diskBytes, defaults.diskBytes);
  take(kNat, spec.nat, overrides.nat, false, Provenance::Builtin);
  take(kStart, spec.start, overrides.start, true, Provenance::Builtin);
  return out;
}

}  // namespace banger::vm
