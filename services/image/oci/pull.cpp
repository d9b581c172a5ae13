#include "oci/pull.h"

#include <exception>
#include <mutex>
#include <thread>

#include "banger/errors.h"

namespace banger::image::oci {

ResolvedImage resolveImage(RegistryClient& registry, const Reference& ref) {
  ResolvedImage image;
  image.ref = ref;
  FetchedManifest top = registry.manifest(ref, ref.manifestReference());
  Document doc = parseDocument(top.body, top.contentType);
  image.manifestDigest = top.digest;
  if (doc.kind == Document::Kind::Index) {
    const Descriptor& chosen = choosePlatform(doc);
    FetchedManifest platform = registry.manifest(ref, chosen.digest);
    doc = parseDocument(platform.body, platform.contentType);
    if (doc.kind != Document::Kind::Manifest)
      fail(ErrorCode::InvalidArgument,
           ref.canonical() + ": the linux/amd64 entry " + chosen.digest + " is another index");
    image.manifestDigest = platform.digest;
  }
  image.config = parseImageConfig(registry.smallBlob(ref, doc.config));
  const Platform& platform = image.config.platform;
  if ((!platform.os.empty() && platform.os != "linux") ||
      (!platform.architecture.empty() && platform.architecture != "amd64"))
    fail(ErrorCode::NotSupported,
         ref.canonical() + " is an image for " + platform.text() + ", not linux/amd64");
  for (const auto& layer : doc.layers) image.layerBytes += layer.size;
  image.manifest = std::move(doc);
  return image;
}

std::vector<std::filesystem::path> fetchLayers(RegistryClient& registry, BlobCache& cache,
                                               const ResolvedImage& image, unsigned parallel,
                                               const std::function<void(std::uint64_t)>& progress) {
  const auto& layers = image.manifest.layers;
  std::vector<std::filesystem::path> paths(layers.size());
  std::atomic<std::size_t> next{0};
  std::mutex failureMutex;
  std::exception_ptr failure;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < layers.size();) {
      {
        std::lock_guard lock(failureMutex);
        if (failure) return;  // one layer failed: the pull fails, start no more
      }
      try {
        paths[i] = cache.ensure(
            layers[i], image.ref.canonical(),
            [&](const auto& sink) { registry.streamBlob(image.ref, layers[i], sink); }, progress);
      } catch (...) {
        std::lock_guard lock(failureMutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::max(1u, parallel) && t < layers.size(); ++t)
    threads.emplace_back(worker);
  worker();
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
  return paths;
}

}  // namespace banger::image::oci
