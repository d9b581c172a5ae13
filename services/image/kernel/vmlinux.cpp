#include "vmlinux.h"

#include <elf.h>

#include <cstdint>
#include <cstring>

#include "banger/errors.h"
#include "inflate.h"

namespace banger::image {
namespace {

// The boot header's fields (Documentation/arch/x86/boot.rst).
constexpr std::size_t kSetupSects = 0x1f1, kHeaderMagic = 0x202, kProtocol = 0x206,
                      kPayloadOffset = 0x248, kPayloadLength = 0x24c;
constexpr unsigned kXenPhys32Entry = 18;                // XEN_ELFNOTE_PHYS32_ENTRY
constexpr std::uint32_t kMaxVmlinuxBytes = 256u << 20;  // Debian's is 51 MiB

[[noreturn]] void refuse(const std::string& why) { fail(ErrorCode::InvalidArgument, why); }

template <typename T>
T readAt(std::string_view bytes, std::uint64_t offset) {
  T value{};
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T))
    refuse("not a kernel: it ends inside its own header");
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// The payload's format from its first bytes, as the kernel's decompressors know them.
std::string compressionOf(std::string_view payload) {
  const auto starts = [&](std::string_view magic) { return payload.starts_with(magic); };
  if (starts("\x1f\x8b")) return "gzip";
  if (starts(std::string_view("\xfd"
                              "7zXZ\0",
                              6)))
    return "xz";
  if (starts("\x28\xb5\x2f\xfd")) return "zstd";
  if (starts("BZh")) return "bzip2";
  if (starts(std::string_view("\x5d\x00\x00", 3))) return "lzma";
  if (starts("\x02\x21\x4c\x18")) return "lz4";
  if (starts("\x89LZO")) return "lzo";
  return "";
}

}  // namespace

bool isBzImage(std::string_view bytes) {
  return bytes.size() > kHeaderMagic + 4 && bytes.substr(kHeaderMagic, 4) == "HdrS";
}

std::string vmlinuxFromBzImage(std::string_view bzImage, std::string& compression) {
  if (!isBzImage(bzImage)) refuse("not a bzImage: no HdrS boot header at 0x202");
  const auto protocol = readAt<std::uint16_t>(bzImage, kProtocol);
  if (protocol < 0x208)
    refuse("boot protocol " + std::to_string(protocol >> 8) + "." +
           std::to_string(protocol & 0xff) + " is older than 2.08 and does not locate its payload");
  unsigned setupSectors = readAt<std::uint8_t>(bzImage, kSetupSects);
  if (setupSectors == 0) setupSectors = 4;  // as the boot protocol says
  const std::uint64_t payloadAt =
      (setupSectors + 1) * 512ull + readAt<std::uint32_t>(bzImage, kPayloadOffset);
  const std::uint64_t payloadLength = readAt<std::uint32_t>(bzImage, kPayloadLength);
  if (payloadLength < 8 || payloadAt > bzImage.size() || bzImage.size() - payloadAt < payloadLength)
    refuse("the payload the boot header names lies outside the file");
  std::string_view payload = bzImage.substr(payloadAt, payloadLength);
  compression = compressionOf(payload);
  if (compression.empty()) refuse("the payload's compression is not one the kernel uses");
  if (compression == "lzo")
    refuse("lzo-compressed kernels are not supported; use gzip, xz, lz4 or zstd");
  // Every format but gzip (whose own trailer holds it) gets the size appended by the
  // kernel's build (size_append): 4 bytes, little-endian.
  const auto size = readAt<std::uint32_t>(payload, payload.size() - 4);
  if (size > kMaxVmlinuxBytes)
    refuse("the payload records " + std::to_string(size) + " bytes inflated, more than any kernel");
  if (compression != "gzip") payload.remove_suffix(4);
  std::string elf;
  elf.reserve(size);  // the size the build recorded: no doubling copies of 50 MB
  inflate(payload, size, "its recorded size", ErrorCode::InvalidArgument,
          "the " + compression + " payload", [&](std::string_view chunk) { elf.append(chunk); });
  if (elf.size() != size)
    refuse("the " + compression + " payload inflated to " + std::to_string(elf.size()) +
           " bytes, not the " + std::to_string(size) + " it records");
  return elf;
}

VmlinuxFacts inspectVmlinux(std::string_view elf) {
  if (elf.size() < sizeof(Elf64_Ehdr) || std::memcmp(elf.data(), ELFMAG, SELFMAG) != 0)
    refuse(isBzImage(elf) ? "a bzImage, not an ELF vmlinux (kernel pull unpacks bzImages; "
                            "for import, give the vmlinux)"
                          : "not an ELF file");
  const auto header = readAt<Elf64_Ehdr>(elf, 0);
  if (header.e_ident[EI_CLASS] != ELFCLASS64) refuse("not a 64-bit ELF (Firecracker needs ELF64)");
  if (header.e_ident[EI_DATA] != ELFDATA2LSB) refuse("not a little-endian ELF");
  if (header.e_machine != EM_X86_64)
    refuse("an ELF for machine " + std::to_string(header.e_machine) + ", not x86-64");
  if (header.e_type != ET_EXEC) refuse("an ELF that is not an executable kernel image");
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0)
    refuse("an ELF with no program headers to load");
  VmlinuxFacts facts;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    const auto segment =
        readAt<Elf64_Phdr>(elf, header.e_phoff + std::uint64_t{i} * sizeof(Elf64_Phdr));
    if (segment.p_type == PT_LOAD &&
        (segment.p_offset > elf.size() || elf.size() - segment.p_offset < segment.p_filesz))
      refuse("a loadable segment lies past the end of the file (truncated?)");
    if (segment.p_type != PT_NOTE) continue;
    if (segment.p_offset > elf.size() || elf.size() - segment.p_offset < segment.p_filesz)
      refuse("a note segment lies past the end of the file");
    std::string_view notes = elf.substr(segment.p_offset, segment.p_filesz);
    while (notes.size() >= sizeof(Elf64_Nhdr)) {
      Elf64_Nhdr note{};
      std::memcpy(&note, notes.data(), sizeof note);
      const std::uint64_t nameBytes = (note.n_namesz + 3ull) & ~3ull;
      const std::uint64_t descBytes = (note.n_descsz + 3ull) & ~3ull;
      if (notes.size() - sizeof note < nameBytes + descBytes) break;
      const std::string_view name = notes.substr(sizeof note, note.n_namesz);
      if (note.n_type == kXenPhys32Entry && name == std::string_view("Xen\0", 4))
        facts.pvhEntry = true;
      notes.remove_prefix(sizeof note + nameBytes + descBytes);
    }
  }
  constexpr std::string_view kBanner = "Linux version ";
  if (const std::size_t at = elf.find(kBanner); at != std::string_view::npos) {
    const std::string_view rest = elf.substr(at + kBanner.size(), 128);
    const std::size_t end = rest.find_first_of(std::string_view(" \n\0", 3));
    facts.version = std::string(rest.substr(0, end));
  }
  if (facts.version.empty()) refuse("no \"Linux version\" banner: not a Linux kernel");
  return facts;
}

}  // namespace banger::image
