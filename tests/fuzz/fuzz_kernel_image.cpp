// libFuzzer target for the kernel files banger takes from outside (an imported vmlinux or
// bzImage, a bundle's, a module's .modinfo): never crashes, refuses with banger::Error
// (or ModuleInfoError), and never inflates past the size a bzImage records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "banger/errors.h"
#include "kernel/vmlinux.h"
#include "module_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    banger::image::inspectVmlinux(bytes);
  } catch (const banger::Error&) {
  }
  try {
    std::string compression;
    const std::string elf = banger::image::vmlinuxFromBzImage(bytes, compression);
    if (elf.size() > (1ull << 32)) std::abort();
  } catch (const banger::Error&) {
  }
  try {
    banger::guest::readModuleInfo(bytes, "fuzz");
  } catch (const banger::guest::ModuleInfoError&) {
  }
  return 0;
}
