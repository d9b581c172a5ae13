// A kernel Firecracker can boot: v1.16 loads ELF only, so a distribution's bzImage is
// unpacked to its ELF payload (IMAGE-NOTES §4: the boot header names the payload, whose
// compression is found from its magic bytes), and any vmlinux is checked before it is
// kept: ELF64 for x86-64, its version string, and whether it carries the PVH entry note.
#pragma once

#include <string>
#include <string_view>

namespace banger::image {

struct VmlinuxFacts {
  std::string version;      // "6.1.0-57-cloud-amd64", from the "Linux version …" banner
  bool pvhEntry = false;    // the Xen PHYS32_ENTRY note (Firecracker's PVH boot)
  std::string compression;  // what the bzImage's payload was: "lz4", "gzip", …; "" for ELF
};

// True when `bytes` start like a bzImage (the boot sector's "HdrS" header).
bool isBzImage(std::string_view bytes);

// The ELF kernel inside a bzImage. Throws banger::Error(InvalidArgument) naming what is
// wrong: no boot header, a boot protocol older than 2.08, a payload outside the file, an
// unknown compression, a payload that does not inflate to its recorded size.
// `compression` receives the payload's format.
std::string vmlinuxFromBzImage(std::string_view bzImage, std::string& compression);

// Checks an ELF kernel: ELF64, little-endian, x86-64, an executable with program headers
// inside the file. Throws InvalidArgument naming the first problem.
VmlinuxFacts inspectVmlinux(std::string_view elf);

}  // namespace banger::image
