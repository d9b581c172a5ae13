#include "module_info.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace banger::guest {

namespace {

template <typename T>
T readAt(std::string_view elf, std::uint64_t offset, const char* what) {
  if (offset > elf.size() || elf.size() - offset < sizeof(T))
    throw ModuleInfoError(std::string("truncated ELF: ") + what + " lies past the end");
  T value;
  std::memcpy(&value, elf.data() + offset, sizeof(T));
  return value;
}

std::string_view sectionBytes(std::string_view elf, const Elf64_Shdr& section) {
  if (section.sh_type == SHT_NOBITS) return {};
  if (section.sh_offset > elf.size() || elf.size() - section.sh_offset < section.sh_size)
    throw ModuleInfoError("truncated ELF: a section lies past the end");
  return elf.substr(section.sh_offset, section.sh_size);
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    if (comma != 0) out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::string moduleNameOf(std::string_view fileName) {
  const std::size_t slash = fileName.rfind('/');
  if (slash != std::string_view::npos) fileName.remove_prefix(slash + 1);
  if (fileName.ends_with(".ko")) fileName.remove_suffix(3);
  std::string name(fileName);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

ModuleInfo readModuleInfo(std::string_view elf, const std::string& fallbackName) {
  if (elf.size() < SELFMAG || std::memcmp(elf.data(), ELFMAG, SELFMAG) != 0)
    throw ModuleInfoError("not an ELF file");
  const auto header = readAt<Elf64_Ehdr>(elf, 0, "the header");
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB)
    throw ModuleInfoError("not a little-endian ELF64 object");
  if (header.e_type != ET_REL) throw ModuleInfoError("not a relocatable object (a .ko is one)");
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0 ||
      header.e_shstrndx >= header.e_shnum)
    throw ModuleInfoError("no usable section table");
  const auto sectionAt = [&](unsigned index) {
    return readAt<Elf64_Shdr>(elf, header.e_shoff + std::uint64_t{index} * sizeof(Elf64_Shdr),
                              "a section header");
  };
  const std::string_view names = sectionBytes(elf, sectionAt(header.e_shstrndx));
  std::string_view modinfo;
  bool found = false;
  for (unsigned i = 0; i < header.e_shnum && !found; ++i) {
    const Elf64_Shdr section = sectionAt(i);
    if (section.sh_name >= names.size()) continue;
    const std::string_view name = names.substr(section.sh_name);
    if (name.substr(0, name.find('\0')) != ".modinfo") continue;
    modinfo = sectionBytes(elf, section);
    found = true;
  }
  if (!found) throw ModuleInfoError("no .modinfo section: not a kernel module");

  ModuleInfo info;
  bool hasDepends = false;
  while (!modinfo.empty()) {
    const std::size_t end = modinfo.find('\0');
    const std::string_view field = modinfo.substr(0, end);
    modinfo.remove_prefix(end == std::string_view::npos ? modinfo.size() : end + 1);
    const std::size_t equals = field.find('=');
    if (equals == std::string_view::npos) continue;  // padding between fields
    const std::string_view key = field.substr(0, equals), value = field.substr(equals + 1);
    if (key == "name") info.name = value;
    if (key == "vermagic") info.vermagic = value;
    if (key == "depends") {
      info.depends = splitList(value);
      hasDepends = true;
    }
  }
  if (!hasDepends) throw ModuleInfoError(".modinfo has no depends= field: not a kernel module");
  if (info.name.empty()) info.name = fallbackName;
  return info;
}

std::vector<ModuleInfo> loadOrder(std::vector<ModuleInfo> modules) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < modules.size(); ++i) index.emplace(modules[i].name, i);
  std::vector<int> state(modules.size(), 0);  // 0 new, 1 on the path, 2 placed
  std::vector<ModuleInfo> ordered;
  std::function<void(std::size_t)> place = [&](std::size_t i) {
    if (state[i] == 2) return;
    if (state[i] == 1)
      throw ModuleInfoError("modules depend on each other in a cycle through " + modules[i].name);
    state[i] = 1;
    for (const std::string& dependency : modules[i].depends)
      if (const auto found = index.find(dependency); found != index.end()) place(found->second);
    state[i] = 2;
    ordered.push_back(modules[i]);
  };
  for (std::size_t i = 0; i < modules.size(); ++i) place(i);
  return ordered;
}

std::vector<ModuleInfo> withDependencies(const std::vector<std::string>& wanted,
                                         const std::vector<ModuleInfo>& available) {
  std::map<std::string, const ModuleInfo*> byName;
  for (const ModuleInfo& module : available) byName.emplace(module.name, &module);
  std::vector<ModuleInfo> chosen;
  std::set<std::string> seen;
  std::function<void(const std::string&, const std::string&)> take = [&](const std::string& name,
                                                                         const std::string& by) {
    if (!seen.insert(name).second) return;
    const auto found = byName.find(name);
    if (found == byName.end())
      throw ModuleInfoError("module " + name + (by.empty() ? "" : " (needed by " + by + ")") +
                            " is not in the kernel's modules");
    for (const std::string& dependency : found->second->depends) take(dependency, name);
    chosen.push_back(*found->second);
  };
  for (const std::string& name : wanted) take(name, "");
  return loadOrder(std::move(chosen));
}

}  // namespace banger::guest
