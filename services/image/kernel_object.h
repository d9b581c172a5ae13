// /org/banger/Image/kernel/<name>: org.banger.Image1.Kernel, one per kernel in the store.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "banger/bus_object.h"
#include "banger/dbus_call.h"
#include "kernel_record.h"
#include "org.banger.Image1.Kernel_adaptor.h"

namespace banger::image {

class KernelObject final : public PublishedObject<org::banger::Image1::Kernel_adaptor> {
 public:
  using DeleteHandler = std::function<void(const std::string& name)>;
  KernelObject(sdbus::IConnection& connection, KernelRecord record, std::string vmlinuxPath,
               std::string initrdPath, CallGuard& guard, DeleteHandler onDelete);
  ~KernelObject();

  const KernelRecord& record() const { return record_; }
  static sdbus::ObjectPath pathFor(const std::string& name);

 private:
  void Delete() override;
  std::string Name() override { return record_.name; }
  std::string Version() override { return record_.version; }
  std::string Source() override { return record_.source; }
  std::string VmlinuxPath() override { return vmlinuxPath_; }
  std::string InitrdPath() override { return initrdPath_; }
  uint64_t CreatedAt() override { return record_.createdAtUs; }
  std::string Reference() override { return record_.reference; }
  std::vector<std::string> Modules() override;
  bool PvhEntry() override { return record_.pvh; }

  KernelRecord record_;
  std::string vmlinuxPath_;
  std::string initrdPath_;  // empty when the kernel boots without one
  CallGuard& guard_;
  DeleteHandler onDelete_;
};

}  // namespace banger::image
