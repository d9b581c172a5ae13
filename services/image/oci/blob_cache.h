// Blobs by digest under $XDG_CACHE_HOME/banger/oci/blobs/sha256/<hex>: a blob is written
// to a private temporary name while its sha256 is computed, and renamed into place only
// when digest and size match, so the cache holds nothing unverified and a second pull of
// the same image downloads nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "oci/manifest.h"

namespace banger::image::oci {

class BlobCache {
 public:
  using Fetch = std::function<void(const std::function<void(std::string_view)>& sink)>;

  explicit BlobCache(std::filesystem::path root);  // …/banger/oci

  std::filesystem::path pathOf(const std::string& digest) const;
  // Removes the partial downloads an interrupted pull left; only when no pull runs.
  void removePartials() const;
  bool has(const Descriptor& blob) const;
  // The blob's path, fetching it first unless cached. `progress` gets each chunk's size.
  // Throws IntegrityError naming `what` when the bytes do not match the descriptor;
  // nothing is left behind then.
  std::filesystem::path ensure(const Descriptor& blob, const std::string& what, const Fetch& fetch,
                               const std::function<void(std::uint64_t)>& progress);
  // The same for a blob whose size is not known in advance (a bundle named by URL and
  // sha256): any size up to `maxBytes`.
  std::filesystem::path ensureUnsized(const std::string& digest, std::uint64_t maxBytes,
                                      const std::string& what, const Fetch& fetch,
                                      const std::function<void(std::uint64_t)>& progress);

 private:
  std::filesystem::path store(const std::string& digest, std::optional<std::uint64_t> size,
                              std::uint64_t maxBytes, const std::string& what, const Fetch& fetch,
                              const std::function<void(std::uint64_t)>& progress);
  std::filesystem::path blobs_;
};

}  // namespace banger::image::oci
