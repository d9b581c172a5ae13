// The module reader banger-init and the initrd builder share: name and depends= from a
// .ko's .modinfo, load order with dependencies first, and clear refusals of anything that
// is not a module.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "fake_module.h"
#include "module_info.h"

namespace banger::guest {
namespace {

using test::fakeModule;

std::string refusal(const std::string& elf) {
  try {
    readModuleInfo(elf, "fallback");
  } catch (const ModuleInfoError& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(ModuleInfo, NameDependsAndVermagicComeFromModinfo) {
  const ModuleInfo info = readModuleInfo(
      fakeModule({"license=GPL", "depends=virtio,virtio_ring,net_failover", "retpoline=Y",
                  "name=virtio_net", "vermagic=6.1.0-56-cloud-amd64 SMP mod_unload modversions "}),
      "ignored");
  EXPECT_EQ(info.name, "virtio_net");
  EXPECT_EQ(info.depends, (std::vector<std::string>{"virtio", "virtio_ring", "net_failover"}));
  EXPECT_EQ(info.vermagic, "6.1.0-56-cloud-amd64 SMP mod_unload modversions ");
}

TEST(ModuleInfo, AnEmptyDependsIsNoneAndAMissingNameIsTheFiles) {
  const ModuleInfo info =
      readModuleInfo(fakeModule({"depends="}), moduleNameOf("/x/virtio-ring.ko"));
  EXPECT_EQ(info.name, "virtio_ring");
  EXPECT_TRUE(info.depends.empty());
}

TEST(ModuleInfo, WhatIsNotAModuleIsRefusedSayingWhy) {
  EXPECT_EQ(refusal("#!/bin/sh\n"), "not an ELF file");
  EXPECT_EQ(refusal(std::string(ELFMAG) + "\x02"), "truncated ELF: the header lies past the end");
  EXPECT_EQ(refusal(std::string(100, 'x')), "not an ELF file");
  EXPECT_EQ(refusal(fakeModule({"depends="}, ET_EXEC)), "not a relocatable object (a .ko is one)");
  EXPECT_EQ(refusal(fakeModule({"depends="}, ET_REL, ".text")),
            "no .modinfo section: not a kernel module");
  EXPECT_EQ(refusal(fakeModule({"license=GPL"})),
            ".modinfo has no depends= field: not a kernel module");
  const std::string whole = fakeModule({"depends="});
  EXPECT_EQ(refusal(whole.substr(0, whole.size() - 10)),
            "truncated ELF: a section header lies past the end");
}

ModuleInfo module(const std::string& name, std::vector<std::string> depends) {
  return {name, std::move(depends), ""};
}

// The guest's modules of Debian's 6.1 cloud kernel with their real depends= fields.
std::vector<ModuleInfo> cloudKernelModules() {
  return {module("overlay", {}),
          module("vmw_vsock_virtio_transport",
                 {"vmw_vsock_virtio_transport_common", "virtio", "virtio_ring", "vsock"}),
          module("virtio_net", {"net_failover", "virtio", "virtio_ring"}),
          module("vmw_vsock_virtio_transport_common", {"vsock"}),
          module("virtio_blk", {"virtio", "virtio_ring"}),
          module("net_failover", {"failover"}),
          module("virtio_mmio", {"virtio", "virtio_ring"}),
          module("failover", {}),
          module("vsock", {}),
          module("virtio", {}),
          module("virtio_ring", {}),
          module("e1000", {}),
          module("btrfs", {"xor", "raid6_pq"})};
}

std::size_t position(const std::vector<ModuleInfo>& order, const std::string& name) {
  for (std::size_t i = 0; i < order.size(); ++i)
    if (order[i].name == name) return i;
  ADD_FAILURE() << name << " is not in the order";
  return 0;
}

TEST(ModuleInfo, TheGuestsModulesAreTheWantedOnesWithDependenciesEachAfterWhatItNeeds) {
  const auto chosen = withDependencies(
      {"virtio_mmio", "virtio_blk", "virtio_net", "vmw_vsock_virtio_transport", "overlay"},
      cloudKernelModules());
  ASSERT_EQ(chosen.size(), 11u);  // IMAGE-NOTES §4: the 11 modules
  for (const ModuleInfo& m : chosen)
    for (const std::string& dependency : m.depends)
      EXPECT_LT(position(chosen, dependency), position(chosen, m.name))
          << dependency << " must load before " << m.name;
  for (const ModuleInfo& m : chosen) EXPECT_NE(m.name, "e1000") << "nothing needs it";
}

TEST(ModuleInfo, AMissingModuleOrDependencyAndACycleAreNamed) {
  try {
    withDependencies({"btrfs"}, cloudKernelModules());
    ADD_FAILURE() << "accepted a module whose dependency is missing";
  } catch (const ModuleInfoError& error) {
    EXPECT_STREQ(error.what(), "module xor (needed by btrfs) is not in the kernel's modules");
  }
  EXPECT_THROW(withDependencies({"nosuch"}, cloudKernelModules()), ModuleInfoError);
  EXPECT_THROW(loadOrder({module("a", {"b"}), module("b", {"a"})}), ModuleInfoError);
  const auto order = loadOrder({module("a", {"outside"}), module("b", {})});
  EXPECT_EQ(order[0].name, "a");  // dependencies outside the list do not reorder
}

}  // namespace
}  // namespace banger::guest
