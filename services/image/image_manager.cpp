#include "image_manager.h"

#include "banger/async_reply.h"
#include "banger/errors.h"
#include "banger/log.h"
#include "catalog.h"
#include "debian_image.h"
#include "name_reservation.h"
#include "oci/blob_cache.h"
#include "oci/reference.h"
#include "pull_job.h"
#include "register_image.h"

namespace banger::image {
namespace {
const std::vector<OptionKey> kPullKeys = {{"name", "s"}, {"kernel", "s"}, {"force", "b"}};
const std::vector<OptionKey> kRegisterKeys = {
    {"name", "s"}, {"rootfs", "s"}, {"kernel", "s"}, {"kernel_path", "s"}, {"initrd", "s"}};
// Catalog images are built here from Debian's packages (debian_image.h).
const std::set<std::string> kCatalogImages = {kDefaultImage};

ext4::BuildLimits limitsFrom(const Config& config) {
  ext4::BuildLimits limits;
  if (config.imageMaxBytes) limits.maxBytes = *config.imageMaxBytes;
  if (config.imageMaxEntries) limits.maxEntries = *config.imageMaxEntries;
  return limits;
}

}  // namespace

ImageManager::ImageManager(ServiceContext& context, UserPaths paths, ProcessRunner& processes,
                           GuestFiles guest)
    : AdaptorInterfaces(context.connection, kRootPath),
      connection_(context.connection),
      loop_(context.loop),
      pool_(context.pool),
      guard_(context.guard),
      paths_(std::move(paths)),
      store_(paths_.stateDir / "image"),
      processes_(processes),
      guest_(std::move(guest)),
      jobs_(context.connection, context.loop, context.pool, context.guard, kRootPath,
            managerJobSignals(*this)) {
  registerAdaptor();
  // The store's lock is held: no other instance is downloading into the cache either.
  for (const char* cache : {"oci", "debian", "bundles"})
    oci::BlobCache(paths_.cacheDir / cache).removePartials();
  for (const auto& record : store_.all()) refreshObject(record.name);
  for (const auto& record : store_.kernels()) refreshKernel(record.name);
}

ImageManager::~ImageManager() {
  *alive_ = false;
  images_.clear();
  kernels_.clear();
  retired_.clear();
  jobs_.withdrawAll();
  unregisterAdaptor();
}

Config ImageManager::loadConfig() const {
  return banger::loadConfig(paths_.configFile(), paths_.home);
}

void ImageManager::later(std::function<void()> fn) {
  loop_.post([alive = alive_, fn = std::move(fn)] {
    if (*alive) fn();
  });
}

void ImageManager::refreshObject(const std::string& name) {
  auto record = store_.find(name);
  auto it = images_.find(name);
  if (it != images_.end() && record && it->second->record().id == record->id) return;
  if (it != images_.end()) images_.erase(it);  // InterfacesRemoved before the new one's Added
  if (!record) return;
  images_[name] =
      std::make_unique<ImageObject>(connection_, *record, store_.rootfsPath(record->id).string(),
                                    store_.workSeedPath(record->id).string(), guard_,
                                    [this](const std::string& n) { deleteImage(n); });
}

void ImageManager::releaseLater(std::set<std::string>& reserved, const std::string& name) {
  later([&reserved, name] { reserved.erase(name); });
}

void ImageManager::submitReserved(std::set<std::string>& reserved, const std::string& name,
                                  const AsyncReply<sdbus::ObjectPath>& reply,
                                  std::function<void()> work,
                                  std::function<sdbus::ObjectPath()> publish) {
  ++asyncCalls_;
  try {
    pool_.submit(
        [this, &reserved, name, reply, work = std::move(work), publish = std::move(publish)] {
          NameReservation reservation{[this, &reserved, name] {
            --asyncCalls_;
            releaseLater(reserved, name);
          }};
          try {
            work();
            later([reply, publish] { reply.succeed(publish()); });
          } catch (...) {
            reply.fail(std::current_exception());
          }
        });
  } catch (...) {
    --asyncCalls_;
    reserved.erase(name);  // the work never started
    throw;
  }
}

void ImageManager::deleteImage(const std::string& name) {
  if (inProgress_.count(name))
    fail(ErrorCode::Busy, "image " + name + " is being replaced by a pull; try again when it ends");
  auto record = store_.remove(name);  // the record goes first, then the files
  if (!record) fail(ErrorCode::NotFound, "no image named " + name);
  store_.removeFiles(record->id);
  log::info("deleted image " + name);
  // Gone from FindImage at once; the object itself (maybe the one whose Delete() is
  // running) goes after the reply.
  retireLater(images_, name);
}

ImageManager::PathPair ImageManager::Pull(const std::string& ref, const VariantMap& options) {
  return guard_("Image1.Manager.Pull", [&]() -> PathPair {
    const auto opts = Options::parse(options, kPullKeys);
    if (kCatalogImages.count(ref)) return pullDebianImage(ref, opts);
    PullRequest request;
    request.ref = oci::parseReference(ref);
    request.name = opts.string("name").value_or(
        defaultImageName(request.ref.repository, request.ref.digest.empty() ? request.ref.tag : "",
                         request.ref.digest));
    requireImageName(request.name);
    request.kernel = opts.string("kernel").value_or("");
    request.force = opts.boolean("force").value_or(false);
    const Config config = loadConfig();
    request.limits = limitsFrom(config);
    request.policy.insecureRegistries = config.insecureRegistries;

    const sdbus::ObjectPath target = ImageObject::pathFor(request.name);
    reserve(images_, inProgress_, "an image", request.name, request.force,
            " (pass force to replace it)");
    try {
      auto job =
          jobs_.start("pull", target, callerUid(getObject()), [this, request](JobContext& context) {
            // Released before the job's Finished is announced, so a caller that saw it can
            // pull the same name again at once.
            NameReservation reservation{
                [this, name = request.name] { releaseLater(inProgress_, name); }};
            PullEnvironment env{store_, paths_.cacheDir / "oci", http_, guest_};
            const ImageRecord record = runPull(request, env, context);
            later([this, name = record.name] { refreshObject(name); });
          });
      return {target, job};
    } catch (...) {
      inProgress_.erase(request.name);  // the job never started
      throw;
    }
  });
}

ImageManager::PathPair ImageManager::pullDebianImage(const std::string& ref, const Options& opts) {
  const Config config = loadConfig();
  DebianImageRequest request{.name = opts.string("name").value_or(ref),
                             .kernel = opts.string("kernel").value_or(kDefaultKernel),
                             .force = opts.boolean("force").value_or(false),
                             .suites = debianSuites(config),
                             .limits = limitsFrom(config),
                             .kernelPull = std::nullopt};
  requireImageName(request.name);
  requireKernelName(request.kernel);
  const sdbus::ObjectPath target = ImageObject::pathFor(request.name);
  reserve(images_, inProgress_, "an image", request.name, request.force,
          " (pass force to replace it)");
  // Its kernel comes with it when it is missing and no other job is pulling it.
  const auto kernelEntry = findCatalogEntry(config, request.kernel, "kernel");
  const bool pullKernel =
      kernelEntry && !kernels_.count(request.kernel) && !kernelsInProgress_.count(request.kernel);
  if (pullKernel) {
    request.kernelPull = KernelPullRequest{
        .name = request.kernel, .force = false, .entry = *kernelEntry, .suites = request.suites};
    kernelsInProgress_.insert(request.kernel);
  }
  try {
    auto job =
        jobs_.start("pull", target, callerUid(getObject()), [this, request](JobContext& context) {
          NameReservation reservation{
              [this, name = request.name] { releaseLater(inProgress_, name); }};
          NameReservation kernelReservation{[this, request] {
            if (request.kernelPull) releaseLater(kernelsInProgress_, request.kernel);
          }};
          KernelEnvironment env{store_, paths_.cacheDir, http_, processes_, guest_};
          const ImageRecord record = runDebianImagePull(request, env, context);
          later([this, name = record.name, kernel = request.kernel] {
            refreshKernel(kernel);
            refreshObject(name);
          });
        });
    return {target, job};
  } catch (...) {
    inProgress_.erase(request.name);
    if (pullKernel) kernelsInProgress_.erase(request.kernel);
    throw;
  }
}

void ImageManager::Register(sdbus::Result<sdbus::ObjectPath>&& result, VariantMap options) {
  guardAsync(guard_, loop_, "Image1.Manager.Register", std::move(result), [&](const auto& reply) {
    const auto opts = Options::parse(options, kRegisterKeys);
    RegisterRequest request{.name = opts.string("name").value_or(""),
                            .rootfs = opts.string("rootfs").value_or(""),
                            .kernel = opts.string("kernel").value_or(""),
                            .kernelPath = opts.string("kernel_path").value_or(""),
                            .initrd = opts.string("initrd").value_or("")};
    if (!opts.has("name")) fail(ErrorCode::InvalidArgument, "options: 'name' is required");
    requireImageName(request.name);
    if (!opts.has("rootfs")) fail(ErrorCode::InvalidArgument, "options: 'rootfs' is required");
    if (request.kernel.empty() == request.kernelPath.empty())
      fail(ErrorCode::InvalidArgument, "options: give one of 'kernel' and 'kernel_path'");
    checkRegisterPaths(request);
    const ext4::BuildLimits limits = limitsFrom(loadConfig());
    reserve(images_, inProgress_, "an image", request.name, false, "");
    submitReserved(
        inProgress_, request.name, reply,
        [this, request, limits] { runRegister(request, store_, limits); },
        [this, name = request.name] {
          refreshObject(name);
          return ImageObject::pathFor(name);
        });
  });
}

sdbus::ObjectPath ImageManager::FindImage(const std::string& name) {
  return guard_("Image1.Manager.FindImage", [&]() -> sdbus::ObjectPath {
    auto it = images_.find(name);
    if (it == images_.end())
      fail(ErrorCode::NotFound, "no image named " + name.substr(0, 80) +
                                    " (banger image list shows the images there are)");
    return it->second->getObjectPath();
  });
}

}  // namespace banger::image
