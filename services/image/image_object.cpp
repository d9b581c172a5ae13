#include "image_object.h"

#include "banger/names.h"

namespace banger::image {

sdbus::ObjectPath ImageObject::pathFor(const std::string& name) {
  return childPath(std::string(names::kImagePath) + "/image", name);
}

ImageObject::ImageObject(sdbus::IConnection& connection, ImageRecord record, std::string rootfsPath,
                         std::string workSeedPath, CallGuard& guard, DeleteHandler onDelete)
    : PublishedObject(connection, pathFor(record.name)),
      record_(std::move(record)),
      rootfsPath_(std::move(rootfsPath)),
      workSeedPath_(std::move(workSeedPath)),
      guard_(guard),
      onDelete_(std::move(onDelete)) {
  publish();
}

ImageObject::~ImageObject() { withdraw(); }

void ImageObject::Delete() {
  // The handler destroys this object: the name is copied first.
  guard_("Image1.Image.Delete", [name = record_.name, this] { onDelete_(name); });
}

}  // namespace banger::image
