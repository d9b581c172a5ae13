// One kernel as the Image service keeps it (DESIGN §3 org.banger.Image1.Kernel): an ELF
// vmlinux, and an initrd with banger-init and the guest's modules unless the kernel has
// everything built in.
#pragma once

#include <cstdint>
#include <string>

namespace banger::image {

struct KernelRecord {
  std::string name{};
  std::string id{};         // its directory: kernels/<id>/
  std::string version{};    // from the vmlinux's "Linux version" banner
  std::string source{};     // catalog | bundle | imported
  std::string reference{};  // the package and suite, the bundle's URL, or the imported path
  bool hasInitrd = false;
  bool pvh = false;       // the vmlinux has the PVH entry note
  std::string modules{};  // the initrd's modules in load order, space-separated
  std::uint64_t createdAtUs = 0;
};

// Kernel names follow the image name rule (image_record.h).
void requireKernelName(const std::string& name);

}  // namespace banger::image
