// ImageManager's kernels and catalog: PullKernel (a job), ImportKernel (async), Catalog,
// FindKernel and the Kernel1 objects (docs/images.md, "Kernels").
#include "banger/async_reply.h"
#include "banger/errors.h"
#include "banger/log.h"
#include "catalog.h"
#include "image_manager.h"
#include "kernel/kernel_job.h"
#include "name_reservation.h"

namespace banger::image {
namespace {
const std::vector<OptionKey> kImportKernelKeys = {
    {"name", "s"}, {"vmlinux", "s"}, {"initrd", "s"}, {"modules", "s"}};
const std::vector<OptionKey> kPullKernelKeys = {{"force", "b"}};
}  // namespace

void ImageManager::refreshKernel(const std::string& name) {
  auto record = store_.findKernel(name);
  auto it = kernels_.find(name);
  if (it != kernels_.end() && record && it->second->record().id == record->id) return;
  if (it != kernels_.end()) kernels_.erase(it);
  if (!record) return;
  kernels_[name] =
      std::make_unique<KernelObject>(connection_, *record, store_.vmlinuxPath(record->id).string(),
                                     store_.initrdPath(record->id).string(), guard_,
                                     [this](const std::string& n) { deleteKernel(n); });
}

void ImageManager::deleteKernel(const std::string& name) {
  if (kernelsInProgress_.count(name))
    fail(ErrorCode::Busy,
         "kernel " + name + " is being replaced by a pull; try again when it ends");
  auto record = store_.removeKernel(name);  // Busy while an image names it
  if (!record) fail(ErrorCode::NotFound, "no kernel named " + name);
  store_.removeKernelFiles(record->id);
  log::info("deleted kernel " + name);
  retireLater(kernels_, name);  // gone from FindKernel at once, the object after the reply
}

ImageManager::PathPair ImageManager::PullKernel(const std::string& name,
                                                const VariantMap& options) {
  return guard_("Image1.Manager.PullKernel", [&]() -> PathPair {
    const auto opts = Options::parse(options, kPullKernelKeys);
    const Config config = loadConfig();
    const auto entry = findCatalogEntry(config, name, "kernel");
    if (!entry)
      fail(ErrorCode::NotFound, "no kernel named " + name.substr(0, 80) +
                                    " in the catalog (banger image catalog lists them; "
                                    "banger kernel import takes a vmlinux of your own)");
    KernelPullRequest request{.name = name,
                              .force = opts.boolean("force").value_or(false),
                              .entry = *entry,
                              .suites = debianSuites(config)};
    const sdbus::ObjectPath target = KernelObject::pathFor(name);
    reserve(kernels_, kernelsInProgress_, "a kernel", name, request.force,
            " (pass force to replace it)");
    try {
      auto job = jobs_.start(
          "pull-kernel", target, callerUid(getObject()), [this, request](JobContext& context) {
            NameReservation reservation{
                [this, name = request.name] { releaseLater(kernelsInProgress_, name); }};
            KernelEnvironment env{store_, paths_.cacheDir, http_, processes_, guest_};
            const KernelRecord record = runKernelPull(request, env, context);
            later([this, name = record.name] { refreshKernel(name); });
          });
      return {target, job};
    } catch (...) {
      kernelsInProgress_.erase(name);
      throw;
    }
  });
}

void ImageManager::ImportKernel(sdbus::Result<sdbus::ObjectPath>&& result, VariantMap options) {
  guardAsync(guard_, loop_, "Image1.Manager.ImportKernel", std::move(result),
             [&](const auto& reply) {
               const auto opts = Options::parse(options, kImportKernelKeys);
               if (!opts.has("name"))
                 fail(ErrorCode::InvalidArgument, "options: 'name' is required");
               if (!opts.has("vmlinux"))
                 fail(ErrorCode::InvalidArgument, "options: 'vmlinux' is required");
               KernelImportRequest request{.name = *opts.string("name"),
                                           .vmlinux = *opts.string("vmlinux"),
                                           .initrd = opts.string("initrd").value_or(""),
                                           .modules = opts.string("modules").value_or("")};
               requireKernelName(request.name);
               checkImportPaths(request);
               reserve(kernels_, kernelsInProgress_, "a kernel", request.name, false,
                       " (pass force to replace it)");
               submitReserved(
                   kernelsInProgress_, request.name, reply,
                   [this, request] {
                     KernelEnvironment env{store_, paths_.cacheDir, http_, processes_, guest_};
                     runKernelImport(request, env);
                   },
                   [this, name = request.name] {
                     refreshKernel(name);
                     return KernelObject::pathFor(name);
                   });
             });
}

std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>>
ImageManager::Catalog() {
  using Row = sdbus::Struct<std::string, std::string, std::string, std::string>;
  return guard_("Image1.Manager.Catalog", [&]() -> std::vector<Row> {
    std::vector<Row> rows;
    for (const CatalogEntry& entry : catalogEntries(loadConfig()))
      rows.emplace_back(entry.name, entry.kind, entry.description, entry.source);
    return rows;
  });
}

sdbus::ObjectPath ImageManager::FindKernel(const std::string& name) {
  return guard_("Image1.Manager.FindKernel", [&]() -> sdbus::ObjectPath {
    auto it = kernels_.find(name);
    if (it == kernels_.end())
      fail(ErrorCode::NotFound, "no kernel named " + name.substr(0, 80) +
                                    " (banger kernel list shows the kernels there are; "
                                    "banger kernel pull debian-cloud fetches the default)");
    return it->second->getObjectPath();
  });
}

}  // namespace banger::image
