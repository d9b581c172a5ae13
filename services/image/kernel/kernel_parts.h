// What a kernel becomes in banger: an ELF vmlinux and the modules its guests need, in
// load order, from a Debian kernel package or from files a user imports.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "initrd.h"
#include "vmlinux.h"

namespace banger::image {

struct KernelParts {
  std::string vmlinux;  // ELF
  VmlinuxFacts facts;
  std::vector<KernelModule> modules;  // load order; empty when everything is built in
};

// The modules banger's guests need (guest_layout.h) with their dependencies.
std::vector<std::string> guestModuleNames();

// From a Debian linux-image .deb: boot/vmlinuz-* unpacked to ELF, and the guest modules
// with their dependencies from lib/modules/*/kernel (the package has no modules.dep, so
// each .ko's own depends= decides). Reads the package once; modules not yet known to be
// needed wait in a file in `scratch`, removed before it returns. InvalidArgument naming
// what is missing.
KernelParts kernelFromDebianPackage(const std::string& debPath,
                                    const std::filesystem::path& scratch,
                                    const std::atomic<bool>* cancel);

// From a modules directory a user imports (lib/modules/<version>, or any tree of .ko
// files): the guest modules with their dependencies. A guest module that is absent is
// fine only when modules.builtin in the tree lists it; otherwise InvalidArgument names it.
std::vector<KernelModule> modulesFromDirectory(const std::filesystem::path& directory);

}  // namespace banger::image
