// banger-image: images and kernels on the session bus. Everything lives in the library.
#include "banger/daemon.h"
#include "banger/process.h"
#include "image_manager.h"

namespace banger::xml {
extern const std::string_view image_interfaces;
}

int main(int argc, char** argv) {
  using namespace banger;
  DaemonSpec spec{"banger-image", image::kBusName, BusKind::User, xml::image_interfaces,
                  "banger's image service (org.banger.Image on the session bus)"};
  static SystemProcessRunner processes;
  return runDaemon(argc, argv, spec, [](ServiceContext& context) {
    const EnvLookup env = processEnvironment();
    return std::make_unique<image::ImageManager>(context, UserPaths::resolve(env), processes,
                                                 image::GuestFiles::locate(env));
  });
}
