// A kernel module as small as one can be: an ELF64 relocatable object whose .modinfo
// holds the given fields, for the tests of module readers and initrd builders.
#pragma once

#include <elf.h>

#include <cstring>
#include <string>
#include <vector>

namespace banger::test {

// A minimal ELF64 relocatable object with a .modinfo section holding `fields` (each
// "key=value", NUL-terminated as the kernel's MODULE_INFO lays them out).
inline std::string fakeModule(const std::vector<std::string>& fields, std::uint16_t type = ET_REL,
                              const char* sectionName = ".modinfo") {
  std::string modinfo;
  for (const std::string& field : fields) modinfo += field + '\0';
  const std::string names = std::string("\0", 1) + sectionName + '\0' + ".shstrtab" + '\0';
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = type;
  header.e_machine = EM_X86_64;
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_shentsize = sizeof(Elf64_Shdr);
  header.e_shnum = 3;
  header.e_shstrndx = 2;
  const std::size_t modinfoAt = sizeof header, namesAt = modinfoAt + modinfo.size();
  header.e_shoff = namesAt + names.size();
  Elf64_Shdr sections[3]{};
  sections[1].sh_name = 1;
  sections[1].sh_type = SHT_PROGBITS;
  sections[1].sh_offset = modinfoAt;
  sections[1].sh_size = modinfo.size();
  sections[2].sh_name = static_cast<Elf64_Word>(2 + std::strlen(sectionName));
  sections[2].sh_type = SHT_STRTAB;
  sections[2].sh_offset = namesAt;
  sections[2].sh_size = names.size();
  std::string elf(reinterpret_cast<const char*>(&header), sizeof header);
  elf += modinfo + names;
  elf.append(reinterpret_cast<const char*>(sections), sizeof sections);
  return elf;
}

}  // namespace banger::test
