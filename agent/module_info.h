// What a kernel module says about itself in its `.modinfo` section: its name and the
// modules it depends on. Debian's kernel package ships no modules.dep (depmod writes it
// in postinst), so both the initrd builder and banger-init order modules from this.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace banger::guest {

class ModuleInfoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModuleInfo {
  std::string name;                  // "virtio_net", as the kernel names it
  std::vector<std::string> depends;  // names, possibly empty
  std::string vermagic;              // "6.1.0-56-cloud-amd64 SMP mod_unload modversions "
};

// Reads an ELF64 relocatable object (a .ko). `fallbackName` (the file name without .ko,
// '-' as '_') is used when the section has no name= field. Throws ModuleInfoError saying
// what is wrong for anything that is not a well-formed module.
ModuleInfo readModuleInfo(std::string_view elf, const std::string& fallbackName);

// The module name a file name stands for: "vmw_vsock-virtio.ko" → "vmw_vsock_virtio".
std::string moduleNameOf(std::string_view fileName);

// `modules` in an order where each comes after the modules it depends on that are in
// the list (dependencies outside it are the kernel's concern); ties keep their order.
// Throws ModuleInfoError on a dependency cycle.
std::vector<ModuleInfo> loadOrder(std::vector<ModuleInfo> modules);

// The closure of `wanted` over `available`'s dependencies, in load order. Throws
// ModuleInfoError naming a wanted module or dependency `available` does not have.
std::vector<ModuleInfo> withDependencies(const std::vector<std::string>& wanted,
                                         const std::vector<ModuleInfo>& available);

}  // namespace banger::guest
