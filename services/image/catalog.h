// The catalog `banger image catalog` lists (DESIGN §3 Image1.Manager.Catalog): what
// banger builds itself from Debian's signed packages — the debian-bookworm image and the
// debian-cloud kernel — plus the kernel bundles named in config.toml's [[catalog]].
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "banger/config.h"
#include "debian/archive.h"

namespace banger::image {

enum class CatalogOrigin { DebianImage, DebianKernel, KernelBundle };

struct CatalogEntry {
  std::string name;
  std::string kind;  // "image" | "kernel"
  std::string description;
  std::string source;  // where it comes from, for people
  CatalogOrigin origin;
  std::string url, sha256;  // bundles
};

inline constexpr const char* kDefaultImage = "debian-bookworm";
inline constexpr const char* kDefaultKernel = "debian-cloud";
inline constexpr const char* kDebianSuite = "bookworm";
inline constexpr const char* kDebianKernelPackage = "linux-image-cloud-amd64";

// Every entry, built-in first. InvalidArgument when a [[catalog]] entry takes a built-in
// name.
std::vector<CatalogEntry> catalogEntries(const Config& config);

// The entry of that name and kind, or nullopt.
std::optional<CatalogEntry> findCatalogEntry(const Config& config, const std::string& name,
                                             const std::string& kind);

// The suites Debian's packages come from: bookworm and bookworm-updates from
// debian_mirror, bookworm-security from debian_security_mirror.
std::vector<debian::Suite> debianSuites(const Config& config);

}  // namespace banger::image
