// The VM name rule, the spec's a{sv} conversion and ResolveSpec's precedence.
#include <gtest/gtest.h>

#include "banger/errors.h"
#include "banger/vm_name.h"
#include "banger/vm_spec.h"
#include "spec.h"

using namespace banger;

TEST(VmName, IsADnsLabelStartingWithALetter) {
  for (const char* good : {"a", "web", "my-box", "x1", "a-b-c", "abcdefghij0123456789"})
    EXPECT_TRUE(isVmName(good)) << good;
  EXPECT_TRUE(isVmName(std::string(63, 'a')));
  for (const char* bad : {"", "-web", "web-", "1web", "Web", "my_box", "my.box", "a b", "ü"})
    EXPECT_FALSE(isVmName(bad)) << bad;
  EXPECT_FALSE(isVmName(std::string(64, 'a')));
}

TEST(VmName, TheErrorNamesTheNameAndTheRule) {
  try {
    requireVmName("Web_1");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'Web_1' is not a VM name"), std::string::npos)
        << e.what();
  }
  try {
    requireVmName(std::string("a\nb\x01", 4));
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "control bytes echoed";
  }
}

TEST(VmSpec, RoundTripsThroughVariants) {
  VmSpec spec;
  spec.name = "web";
  spec.image = "alpine";
  spec.vcpus = 2;
  spec.memoryMib = 2048;
  spec.diskBytes = 8ULL << 30;
  spec.nat = true;
  spec.start = false;
  const auto variants = spec.toVariants();
  EXPECT_EQ(variants.size(), 7U) << "absent fields are absent keys";
  EXPECT_EQ(variants.at(spec_keys::kVcpus).get<uint32_t>(), 2U);
  EXPECT_EQ(VmSpec::fromVariants(variants), spec);
  EXPECT_TRUE(VmSpec::fromVariants({}).toVariants().empty());
}

TEST(VmSpec, RefusesUnknownKeysWrongTypesAndBadNames) {
  auto code = [](const VariantMap& values) {
    try {
      VmSpec::fromVariants(values);
      return ErrorCode::Failed;
    } catch (const Error& e) {
      return e.code();
    }
  };
  EXPECT_EQ(code({{"cpus", sdbus::Variant(uint32_t{2})}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(code({{spec_keys::kVcpus, sdbus::Variant(int32_t{2})}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(code({{spec_keys::kName, sdbus::Variant(std::string("-x"))}}),
            ErrorCode::InvalidArgument);
}

TEST(ResolveSpec, FlagsBeatConfigBeatsHostBeatsBuiltin) {
  Config config;
  config.defaultImage = "alpine";
  config.vmDefaults.vcpu = 3;
  VmSpec flags;
  flags.memoryMib = 512;
  flags.name = "web";
  const auto [spec, provenance] = vm::resolveSpec(flags, config, HostFacts{32, 128ULL << 30});
  EXPECT_EQ(spec.name, "web");
  EXPECT_EQ(spec.image, "alpine");
  EXPECT_EQ(spec.kernel, vm::kBuiltinKernel);
  EXPECT_EQ(spec.vcpus, 3U);
  EXPECT_EQ(spec.memoryMib, 512U);
  EXPECT_EQ(spec.diskBytes, 8ULL << 30);
  EXPECT_EQ(spec.nat, false);
  EXPECT_EQ(spec.start, true);
  const std::map<std::string, std::string> expected = {
      {"name", "flag"},       {"image", "config"},    {"kernel", "builtin"}, {"vcpus", "config"},
      {"memory_mib", "flag"}, {"disk_bytes", "auto"}, {"nat", "builtin"},    {"start", "builtin"},
  };
  EXPECT_EQ(provenance, expected);
}
