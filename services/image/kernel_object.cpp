#include "kernel_object.h"

#include "banger/names.h"

namespace banger::image {

sdbus::ObjectPath KernelObject::pathFor(const std::string& name) {
  return childPath(std::string(names::kImagePath) + "/kernel", name);
}

KernelObject::KernelObject(sdbus::IConnection& connection, KernelRecord record,
                           std::string vmlinuxPath, std::string initrdPath, CallGuard& guard,
                           DeleteHandler onDelete)
    : PublishedObject(connection, pathFor(record.name)),
      record_(std::move(record)),
      vmlinuxPath_(std::move(vmlinuxPath)),
      initrdPath_(record_.hasInitrd ? std::move(initrdPath) : std::string()),
      guard_(guard),
      onDelete_(std::move(onDelete)) {
  publish();
}

KernelObject::~KernelObject() { withdraw(); }

std::vector<std::string> KernelObject::Modules() {
  std::vector<std::string> names;
  std::string_view rest = record_.modules;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    names.emplace_back(rest.substr(0, space));
    rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
  }
  return names;
}

void KernelObject::Delete() {
  guard_("Image1.Kernel.Delete", [name = record_.name, this] { onDelete_(name); });
}

}  // namespace banger::image
