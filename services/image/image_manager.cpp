#include "image_manager.h"

#include "banger/errors.h"

namespace banger::image {
namespace {
constexpr const char* kImages = "the image catalog and OCI import";
constexpr const char* kKernels = "the kernel catalog";
const std::vector<OptionKey> kPullKeys = {{"name", "s"}, {"kernel", "s"}, {"force", "b"}};
const std::vector<OptionKey> kRegisterKeys = {
    {"name", "s"}, {"rootfs", "s"}, {"kernel", "s"}, {"kernel_path", "s"}, {"initrd", "s"}};
const std::vector<OptionKey> kImportKernelKeys = {
    {"name", "s"}, {"vmlinux", "s"}, {"initrd", "s"}, {"modules", "s"}};
const std::vector<OptionKey> kPullKernelKeys = {{"force", "b"}};
}  // namespace

ImageManager::ImageManager(ServiceContext& context)
    : AdaptorInterfaces(context.connection, kRootPath),
      guard_(context.guard),
      jobs_(context.connection, context.loop, context.pool, context.guard, kRootPath,
            managerJobSignals(*this)) {
  registerAdaptor();
}

ImageManager::~ImageManager() { unregisterAdaptor(); }

ImageManager::PathPair ImageManager::Pull(const std::string& /*ref*/, const VariantMap& options) {
  return guard_("Image1.Manager.Pull", [&]() -> PathPair {
    Options::parse(options, kPullKeys);
    notSupportedYet("Pull", kImages);
  });
}

sdbus::ObjectPath ImageManager::Register(const VariantMap& options) {
  return guard_("Image1.Manager.Register", [&]() -> sdbus::ObjectPath {
    Options::parse(options, kRegisterKeys);
    notSupportedYet("Register", kImages);
  });
}

ImageManager::PathPair ImageManager::PullKernel(const std::string& /*name*/,
                                                const VariantMap& options) {
  return guard_("Image1.Manager.PullKernel", [&]() -> PathPair {
    Options::parse(options, kPullKernelKeys);
    notSupportedYet("PullKernel", kKernels);
  });
}

sdbus::ObjectPath ImageManager::ImportKernel(const VariantMap& options) {
  return guard_("Image1.Manager.ImportKernel", [&]() -> sdbus::ObjectPath {
    Options::parse(options, kImportKernelKeys);
    notSupportedYet("ImportKernel", kKernels);
  });
}

std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>>
ImageManager::Catalog() {
  return guard_(
      "Image1.Manager.Catalog",
      [&]() -> std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>> {
        notSupportedYet("Catalog", kImages);
      });
}

sdbus::ObjectPath ImageManager::FindImage(const std::string& /*name*/) {
  return guard_("Image1.Manager.FindImage",
                [&]() -> sdbus::ObjectPath { notSupportedYet("FindImage", kImages); });
}

sdbus::ObjectPath ImageManager::FindKernel(const std::string& /*name*/) {
  return guard_("Image1.Manager.FindKernel",
                [&]() -> sdbus::ObjectPath { notSupportedYet("FindKernel", kKernels); });
}

}  // namespace banger::image
