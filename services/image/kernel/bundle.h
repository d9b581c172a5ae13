// A kernel bundle (docs/images.md): a tar (zstd, xz, gzip or plain) holding `vmlinux`,
// optionally `initrd.img`, and optionally `modules/` (a lib/modules/<version> tree).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace banger::image {

inline constexpr std::uint64_t kMaxBundleBytes = 1ull << 30;

struct BundleFiles {
  std::string vmlinux;
  std::string initrd;   // empty when the bundle has none
  std::string modules;  // a directory; empty when the bundle has none
};

// Unpacks the bundle's known members into `into` (other entries are ignored, symlinks
// and devices too). InvalidArgument naming `label` when there is no vmlinux, an entry
// climbs out with "..", or the bundle is corrupt or larger than kMaxBundleBytes unpacked.
BundleFiles unpackBundle(const std::string& path, const std::filesystem::path& into,
                         const std::string& label);

}  // namespace banger::image
