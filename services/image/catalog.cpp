#include "catalog.h"

#include "banger/errors.h"

namespace banger::image {
namespace {
constexpr const char* kDebianMirror = "http://deb.debian.org/debian";
constexpr const char* kDebianSecurityMirror = "http://deb.debian.org/debian-security";
}  // namespace

std::vector<debian::Suite> debianSuites(const Config& config) {
  const std::string mirror = config.debianMirror.value_or(kDebianMirror);
  const std::string security = config.debianSecurityMirror.value_or(kDebianSecurityMirror);
  const std::string suite = kDebianSuite;
  return {{mirror, suite}, {mirror, suite + "-updates"}, {security, suite + "-security"}};
}

std::vector<CatalogEntry> catalogEntries(const Config& config) {
  const std::string mirror = config.debianMirror.value_or(kDebianMirror);
  std::vector<CatalogEntry> entries = {
      {kDefaultImage, "image",
       "Debian 12 with systemd, OpenSSH and developer tools (git, make, build-essential, curl, "
       "tmux, vim-tiny), built here from Debian's signed packages",
       "mmdebstrap " + std::string(kDebianSuite) + " from " + mirror, CatalogOrigin::DebianImage,
       "", ""},
      {kDefaultKernel, "kernel",
       "Debian 12's cloud kernel as an ELF vmlinux, with an initrd of banger-init and the "
       "virtio, vsock and overlay modules",
       std::string(kDebianKernelPackage) + " from " + mirror + " (" + kDebianSuite +
           ", -updates, -security)",
       CatalogOrigin::DebianKernel, "", ""},
  };
  for (const CatalogBundle& bundle : config.catalog) {
    for (const CatalogEntry& builtIn : entries)
      if (builtIn.name == bundle.name)
        fail(ErrorCode::InvalidArgument, "config.toml: [[catalog]] entry '" + bundle.name +
                                             "' takes the name of a built-in catalog entry");
    entries.push_back({bundle.name, bundle.kind,
                       bundle.description.empty() ? "a kernel bundle (vmlinux, initrd, modules)"
                                                  : bundle.description,
                       bundle.url, CatalogOrigin::KernelBundle, bundle.url, bundle.sha256});
  }
  return entries;
}

std::optional<CatalogEntry> findCatalogEntry(const Config& config, const std::string& name,
                                             const std::string& kind) {
  for (CatalogEntry& entry : catalogEntries(config))
    if (entry.name == name && entry.kind == kind) return std::move(entry);
  return std::nullopt;
}

}  // namespace banger::image
