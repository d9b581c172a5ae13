#include "banger/vm_spec.h"

#include "banger/vm_name.h"

namespace banger {

const std::vector<OptionKey>& vmSpecSchema() {
  using namespace spec_keys;
  static const std::vector<OptionKey> schema = {
      {kName, "s"},      {kImage, "s"},     {kKernel, "s"}, {kVcpus, "u"},
      {kMemoryMib, "u"}, {kDiskBytes, "t"}, {kNat, "b"},    {kStart, "b"},
  };
  return schema;
}

VmSpec VmSpec::fromVariants(const VariantMap& values, const std::string& what) {
  using namespace spec_keys;
  const Options o = Options::parse(values, vmSpecSchema(), what);
  VmSpec spec{o.string(kName),      o.string(kImage),     o.string(kKernel), o.uint32(kVcpus),
              o.uint32(kMemoryMib), o.uint64(kDiskBytes), o.boolean(kNat),   o.boolean(kStart)};
  if (spec.name) requireVmName(*spec.name);
  return spec;
}

VariantMap VmSpec::toVariants() const {
  using namespace spec_keys;
  VariantMap out;
  auto put = [&out](const char* key, const auto& field) {
    if (field) out[key] = sdbus::Variant(*field);
  };
  put(kName, name);
  put(kImage, image);
  put(kKernel, kernel);
  put(kVcpus, vcpus);
  put(kMemoryMib, memoryMib);
  put(kDiskBytes, diskBytes);
  put(kNat, nat);
  put(kStart, start);
  return out;
}

}  // namespace banger
