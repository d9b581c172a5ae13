// /org/banger/Image: org.banger.Image1.Manager + ObjectManager.
#pragma once

#include "banger/daemon.h"
#include "banger/job.h"
#include "banger/names.h"
#include "banger/options.h"
#include "org.banger.Image1.Manager_adaptor.h"

namespace banger::image {

inline constexpr const char* kBusName = names::kImageBus;
inline constexpr const char* kRootPath = names::kImagePath;

class ImageManager final
    : public sdbus::AdaptorInterfaces<org::banger::Image1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor>,
      public Service {
 public:
  explicit ImageManager(ServiceContext& context);
  ~ImageManager() override;

  bool busy() const override { return jobs_.count() > 0; }

 private:
  using PathPair = std::tuple<sdbus::ObjectPath, sdbus::ObjectPath>;
  PathPair Pull(const std::string& ref, const VariantMap& options) override;
  sdbus::ObjectPath Register(const VariantMap& options) override;
  PathPair PullKernel(const std::string& name, const VariantMap& options) override;
  sdbus::ObjectPath ImportKernel(const VariantMap& options) override;
  std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>> Catalog() override;
  sdbus::ObjectPath FindImage(const std::string& name) override;
  sdbus::ObjectPath FindKernel(const std::string& name) override;

  CallGuard& guard_;
  JobManager jobs_;
};

}  // namespace banger::image
