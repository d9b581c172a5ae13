#include <gtest/gtest.h>

#include "vm_defaults.h"

using namespace banger;

TEST(VmDefaults, BigHostUsesCappedHeuristics) {
  const auto d = resolveVmDefaults({}, HostFacts{32, 128ULL << 30});
  EXPECT_EQ(d.vcpu.value, 4U);  // 32/4 = 8, capped at 4
  EXPECT_EQ(d.vcpu.provenance, Provenance::Auto);
  EXPECT_EQ(d.memoryMib.value, 8192U);  // 128G/8 = 16G, capped at 8G
  EXPECT_EQ(d.memoryMib.provenance, Provenance::Auto);
  EXPECT_EQ(d.diskBytes.value, 8ULL << 30);
  EXPECT_EQ(d.diskBytes.provenance, Provenance::Auto);
}

TEST(VmDefaults, MidHostScalesWithTheHost) {
  const auto d = resolveVmDefaults({}, HostFacts{8, 32ULL << 30});
  EXPECT_EQ(d.vcpu.value, 2U);
  EXPECT_EQ(d.memoryMib.value, 4096U);
  EXPECT_EQ(d.memoryMib.provenance, Provenance::Auto);
}

TEST(VmDefaults, SmallHostFallsToTheBuiltinFloor) {
  const auto d = resolveVmDefaults({}, HostFacts{2, 4ULL << 30});
  EXPECT_EQ(d.vcpu.value, kFloorVcpu);  // 2/4 = 0
  EXPECT_EQ(d.vcpu.provenance, Provenance::Builtin);
  EXPECT_EQ(d.memoryMib.value, kFloorMemoryMib);  // 512 MiB < floor
  EXPECT_EQ(d.memoryMib.provenance, Provenance::Builtin);
}

TEST(VmDefaults, ConfigWinsOverEverything) {
  VmDefaultsConfig config;
  config.vcpu = 3;
  config.diskBytes = 20ULL << 30;
  const auto d = resolveVmDefaults(config, HostFacts{2, 4ULL << 30});
  EXPECT_EQ(d.vcpu.value, 3U);
  EXPECT_EQ(d.vcpu.provenance, Provenance::Config);
  EXPECT_EQ(d.diskBytes.value, 20ULL << 30);
  EXPECT_EQ(d.diskBytes.provenance, Provenance::Config);
  EXPECT_EQ(d.memoryMib.provenance, Provenance::Builtin);
}

TEST(VmDefaults, ProvenanceNames) {
  EXPECT_EQ(provenanceName(Provenance::Flag), "flag");
  EXPECT_EQ(provenanceName(Provenance::Config), "config");
  EXPECT_EQ(provenanceName(Provenance::Auto), "auto");
  EXPECT_EQ(provenanceName(Provenance::Builtin), "builtin");
}
