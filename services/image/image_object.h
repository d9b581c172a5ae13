// /org/banger/Image/image/<name>: org.banger.Image1.Image, one per published image.
#pragma once

#include <functional>

#include "banger/bus_object.h"
#include "banger/dbus_call.h"
#include "image_record.h"
#include "org.banger.Image1.Image_adaptor.h"

namespace banger::image {

class ImageObject final : public PublishedObject<org::banger::Image1::Image_adaptor> {
 public:
  using DeleteHandler = std::function<void(const std::string& name)>;
  ImageObject(sdbus::IConnection& connection, ImageRecord record, std::string rootfsPath,
              std::string workSeedPath, CallGuard& guard, DeleteHandler onDelete);
  ~ImageObject();

  const ImageRecord& record() const { return record_; }
  static sdbus::ObjectPath pathFor(const std::string& name);

 private:
  void Delete() override;
  std::string Name() override { return record_.name; }
  std::string Source() override { return record_.source; }
  std::string Reference() override { return record_.reference; }
  std::string Digest() override { return record_.digest; }
  std::string Kernel() override { return record_.kernel; }
  std::string RootfsPath() override { return rootfsPath_; }
  std::string WorkSeedPath() override { return workSeedPath_; }
  uint64_t RootfsBytes() override { return record_.rootfsBytes; }
  uint64_t CreatedAt() override { return record_.createdAtUs; }

  ImageRecord record_;
  std::string rootfsPath_;
  std::string workSeedPath_;
  CallGuard& guard_;
  DeleteHandler onDelete_;
};

}  // namespace banger::image
