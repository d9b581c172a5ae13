#include "kernel_parts.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "banger/errors.h"
#include "deb_package.h"
#include "guest_layout.h"
#include "module_info.h"

namespace banger::image {
namespace {

constexpr std::uint64_t kMaxKernelFile = 256ull << 20;
constexpr std::uint64_t kMaxModule = 64ull << 20;

bool isModulePath(const std::string& path) {
  return path.starts_with("lib/modules/") && path.ends_with(".ko") &&
         path.find("/kernel/") != std::string::npos;
}

std::vector<KernelModule> inOrder(const std::vector<guest::ModuleInfo>& closure,
                                  std::map<std::string, std::string>& bytes) {
  std::vector<KernelModule> out;
  for (const guest::ModuleInfo& module : closure)
    out.push_back({module.name, std::move(bytes.at(module.name))});
  return out;
}

std::vector<guest::ModuleInfo> closureOf(const std::vector<std::string>& wanted,
                                         const std::vector<guest::ModuleInfo>& available,
                                         const std::string& where) {
  try {
    return guest::withDependencies(wanted, available);
  } catch (const guest::ModuleInfoError& error) {
    fail(ErrorCode::InvalidArgument, where + ": " + error.what());
  }
}

}  // namespace

std::vector<std::string> guestModuleNames() {
  return {std::begin(guest::kGuestModules), std::end(guest::kGuestModules)};
}

KernelParts kernelFromDebianPackage(const std::string& debPath, const std::atomic<bool>* cancel) {
  KernelParts parts;
  std::string bzImage, bzImagePath;
  std::vector<guest::ModuleInfo> available;
  std::map<std::string, std::string> bytes;  // kept modules, by name
  std::set<std::string> wanted(std::begin(guest::kGuestModules), std::end(guest::kGuestModules));
  std::set<std::string> named = wanted;  // wanted or depended on so far
  std::map<std::string, std::string> pathOf;
  forEachDebFile(
      debPath,
      [&](DebEntry& entry) {
        if (!entry.isRegularFile()) return;
        if (entry.path().starts_with("boot/vmlinuz-")) {
          if (!bzImage.empty())
            fail(ErrorCode::InvalidArgument,
                 debPath + " holds two kernels: " + bzImagePath + " and " + entry.path());
          bzImage = entry.read(kMaxKernelFile);
          bzImagePath = entry.path();
          return;
        }
        if (!isModulePath(entry.path())) return;
        std::string ko = entry.read(kMaxModule);
        guest::ModuleInfo info;
        try {
          info = guest::readModuleInfo(ko, guest::moduleNameOf(entry.path()));
        } catch (const guest::ModuleInfoError& error) {
          fail(ErrorCode::InvalidArgument, debPath + ": " + entry.path() + ": " + error.what());
        }
        for (const std::string& dependency : info.depends) named.insert(dependency);
        pathOf[info.name] = entry.path();
        if (named.count(info.name)) bytes[info.name] = std::move(ko);
        available.push_back(std::move(info));
      },
      cancel);
  if (bzImage.empty()) fail(ErrorCode::InvalidArgument, debPath + " holds no boot/vmlinuz-*");
  const auto closure = closureOf(guestModuleNames(), available, debPath);

  std::map<std::string, std::string> missing;  // path → module name
  for (const guest::ModuleInfo& module : closure)
    if (!bytes.count(module.name)) missing[pathOf.at(module.name)] = module.name;
  if (!missing.empty()) {  // a dependency the archive listed before its first user
    forEachDebFile(
        debPath,
        [&](DebEntry& entry) {
          if (const auto found = missing.find(entry.path()); found != missing.end())
            bytes[found->second] = entry.read(kMaxModule);
        },
        cancel);
  }
  parts.modules = inOrder(closure, bytes);
  parts.vmlinux = vmlinuxFromBzImage(bzImage, parts.facts.compression);
  const std::string compression = parts.facts.compression;
  parts.facts = inspectVmlinux(parts.vmlinux);
  parts.facts.compression = compression;
  return parts;
}

std::vector<KernelModule> modulesFromDirectory(const std::filesystem::path& directory) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(directory, error))
    fail(ErrorCode::InvalidArgument, "modules: " + directory.string() + " is not a directory");
  std::vector<guest::ModuleInfo> available;
  std::map<std::string, std::string> bytes;
  std::set<std::string> builtin;
  for (fs::recursive_directory_iterator it(directory, fs::directory_options::none, error), end;
       !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name == "modules.builtin" && it->is_regular_file()) {
      std::ifstream in(it->path());
      for (std::string line; std::getline(in, line);) builtin.insert(guest::moduleNameOf(line));
      continue;
    }
    if (!name.ends_with(".ko") || !it->is_regular_file()) continue;
    if (it->file_size() > kMaxModule)
      fail(ErrorCode::InvalidArgument, "modules: " + it->path().string() + " is too large");
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream ko;
    ko << in.rdbuf();
    try {
      guest::ModuleInfo info = guest::readModuleInfo(ko.str(), guest::moduleNameOf(name));
      bytes[info.name] = ko.str();
      available.push_back(std::move(info));
    } catch (const guest::ModuleInfoError& failure) {
      fail(ErrorCode::InvalidArgument, "modules: " + it->path().string() + ": " + failure.what());
    }
  }
  if (error)
    fail(ErrorCode::InvalidArgument, "modules: " + directory.string() + ": " + error.message());
  std::vector<std::string> wanted;
  std::string absent;
  for (const std::string& name : guestModuleNames()) {
    const bool present = std::any_of(available.begin(), available.end(),
                                     [&](const guest::ModuleInfo& m) { return m.name == name; });
    if (present)
      wanted.push_back(name);
    else if (!builtin.count(name))
      absent += (absent.empty() ? "" : ", ") + name;
  }
  if (!absent.empty())
    fail(ErrorCode::InvalidArgument, "modules: " + directory.string() + " lacks " + absent +
                                         ", which its modules.builtin does not list either; "
                                         "the guest cannot find its disks or network without them");
  const auto closure = closureOf(wanted, available, "modules " + directory.string());
  return inOrder(closure, bytes);
}

}  // namespace banger::image
