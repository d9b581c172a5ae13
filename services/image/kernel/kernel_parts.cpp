#include "kernel_parts.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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

// Modules nothing has named yet, set aside in a scratch file as they stream past: most
// are never needed, and a dependency the package lists before its first user comes back
// from here instead of from a second read of the whole package.
class ModuleSpill {
 public:
  explicit ModuleSpill(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0)
      fail(ErrorCode::Failed, "cannot create " + path_.string() + ": " + std::strerror(errno));
  }
  ~ModuleSpill() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  ModuleSpill(const ModuleSpill&) = delete;
  ModuleSpill& operator=(const ModuleSpill&) = delete;

  void put(const std::string& name, const std::string& bytes) {
    if (::pwrite(fd_, bytes.data(), bytes.size(), end_) != static_cast<ssize_t>(bytes.size()))
      fail(ErrorCode::Failed, "cannot write " + path_.string() + ": " + std::strerror(errno));
    where_[name] = {end_, bytes.size()};
    end_ += static_cast<off_t>(bytes.size());
  }
  std::string take(const std::string& name) const {
    const auto [offset, size] = where_.at(name);
    std::string bytes(size, '\0');
    if (::pread(fd_, bytes.data(), size, offset) != static_cast<ssize_t>(size))
      fail(ErrorCode::Failed, "cannot read " + path_.string() + ": " + std::strerror(errno));
    return bytes;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  off_t end_ = 0;
  std::map<std::string, std::pair<off_t, std::size_t>> where_;
};

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

KernelParts kernelFromDebianPackage(const std::string& debPath,
                                    const std::filesystem::path& scratch,
                                    const std::atomic<bool>* cancel) {
  KernelParts parts;
  std::string bzImage, bzImagePath;
  std::vector<guest::ModuleInfo> available;
  std::map<std::string, std::string> bytes;  // kept modules, by name
  std::set<std::string> named(std::begin(guest::kGuestModules), std::end(guest::kGuestModules));
  ModuleSpill spill(scratch / "modules.spill");
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
        if (named.count(info.name))
          bytes[info.name] = std::move(ko);
        else
          spill.put(info.name, ko);
        available.push_back(std::move(info));
      },
      cancel);
  if (bzImage.empty()) fail(ErrorCode::InvalidArgument, debPath + " holds no boot/vmlinuz-*");
  const auto closure = closureOf(guestModuleNames(), available, debPath);
  for (const guest::ModuleInfo& module : closure)
    if (!bytes.count(module.name)) bytes[module.name] = spill.take(module.name);
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
