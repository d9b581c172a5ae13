// The smallest kernel files the readers accept: a module (an ELF64 relocatable object with
// a .modinfo) and a vmlinux (an ELF64 executable with the banner and the PVH note), for the
// tests of module readers, kernel imports and initrd builders, and the benchmarks.
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

// An ELF64 x86-64 executable with one PT_LOAD holding the "Linux version" banner and,
// when `pvh`, a PT_NOTE with Xen's PHYS32_ENTRY note, as Debian's vmlinux carries it.
inline std::string fakeVmlinux(bool pvh, std::uint16_t machine = EM_X86_64,
                               unsigned char elfClass = ELFCLASS64) {
  std::string note;
  if (pvh) {
    Elf64_Nhdr header{4, 4, 18};
    note.append(reinterpret_cast<const char*>(&header), sizeof header);
    note.append("Xen\0", 4);
    note.append("\x50\x08\x00\x01", 4);
  }
  const std::string text = std::string(64, '\x90') +
                           "Linux version 9.9.9-test (builder@example) #1 SMP\n" +
                           std::string(64, '\0');
  Elf64_Ehdr ehdr{};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = elfClass;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_type = ET_EXEC;
  ehdr.e_machine = machine;
  ehdr.e_entry = 0x1000000;
  ehdr.e_phoff = sizeof ehdr;
  ehdr.e_ehsize = sizeof ehdr;
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  ehdr.e_phnum = pvh ? 2 : 1;
  const std::size_t dataAt = sizeof ehdr + ehdr.e_phnum * sizeof(Elf64_Phdr);
  Elf64_Phdr load{};
  load.p_type = PT_LOAD;
  load.p_offset = dataAt;
  load.p_filesz = load.p_memsz = text.size();
  Elf64_Phdr notes{};
  notes.p_type = PT_NOTE;
  notes.p_offset = dataAt + text.size();
  notes.p_filesz = note.size();
  std::string elf(reinterpret_cast<const char*>(&ehdr), sizeof ehdr);
  elf.append(reinterpret_cast<const char*>(&load), sizeof load);
  if (pvh) elf.append(reinterpret_cast<const char*>(&notes), sizeof notes);
  return elf + text + note;
}

}  // namespace banger::test
