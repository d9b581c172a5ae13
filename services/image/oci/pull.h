// The registry side of a pull: from a reference to a verified manifest and config
// (linux/amd64 picked from an index), then every layer in the blob cache, several at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "oci/blob_cache.h"
#include "oci/manifest.h"
#include "oci/reference.h"
#include "oci/registry.h"

namespace banger::image::oci {

struct ResolvedImage {
  Reference ref;
  std::string manifestDigest;  // the linux/amd64 image manifest's: the image's identity
  Document manifest;
  ImageConfig config;
  std::uint64_t layerBytes = 0;  // compressed, as downloaded
};

ResolvedImage resolveImage(RegistryClient& registry, const Reference& ref);

// Every layer of `image` in `cache` (downloading those missing, `parallel` at a time);
// their paths, oldest layer first. `progress` gets byte counts as they arrive, from any
// of the download threads.
std::vector<std::filesystem::path> fetchLayers(RegistryClient& registry, BlobCache& cache,
                                               const ResolvedImage& image, unsigned parallel,
                                               const std::function<void(std::uint64_t)>& progress);

}  // namespace banger::image::oci
