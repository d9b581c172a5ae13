// OCI and Docker v2 manifests, indexes (manifest lists) and image configs: parsed from
// the exact bytes the registry sent, checked, and the linux/amd64 image picked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace banger::image::oci {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
// What every manifest request accepts (registry 2.8 answers 404 for an index otherwise).
inline constexpr std::string_view kAcceptAll =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
}  // namespace media

inline constexpr std::size_t kMaxManifestBytes = 4 << 20;

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string text() const;  // "linux/arm64/v8"
};

struct Descriptor {
  std::string mediaType;
  std::string digest;
  std::uint64_t size = 0;
  Platform platform;         // index entries only
  bool attestation = false;  // Docker's "unknown/unknown" attestation manifests
};

struct Document {
  enum class Kind { Index, Manifest } kind = Kind::Manifest;
  std::vector<Descriptor> manifests;  // Index
  Descriptor config;                  // Manifest
  std::vector<Descriptor> layers;     // Manifest, oldest first
};

// Parses a manifest or an index; `contentType` is the response's Content-Type and wins
// over the body's mediaType. Throws InvalidArgument for malformed JSON or fields,
// NotSupported for schema 1 and for foreign or non-distributable layers.
Document parseDocument(std::string_view body, std::string_view contentType);

// The index entry for linux/amd64 (no variant preferred, then v1..v3). Throws
// NotSupported naming the platforms offered when there is none.
const Descriptor& choosePlatform(const Document& index);

struct ImageConfig {
  Platform platform;
  std::vector<std::string> diffIds;
};
ImageConfig parseImageConfig(std::string_view body);

}  // namespace banger::image::oci
