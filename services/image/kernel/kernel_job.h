// PullKernel's job and ImportKernel's work (DESIGN §3, §6): a kernel from the catalog
// (Debian's package through the signed chain, or a bundle by URL and sha256) or from
// files a user has, checked, unpacked to ELF, given banger's initrd, and published.
// Everything is built in a staging directory; a failure at any step leaves nothing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "banger/http.h"
#include "banger/job.h"
#include "banger/process.h"
#include "catalog.h"
#include "guest_files.h"
#include "image_store.h"

namespace banger::image {

struct KernelEnvironment {
  ImageStore& store;
  std::filesystem::path cacheRoot;  // ~/.cache/banger: debian/ and bundles/ blob caches
  const http::Client& http;
  ProcessRunner& processes;
  GuestFiles guest;
  std::string keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
};

struct KernelPullRequest {
  std::string name;
  bool force = false;
  CatalogEntry entry;
  std::vector<debian::Suite> suites;  // for the Debian kernel
};

// Stages: verify (the suites' signed indices), download, unpack, initrd, publish.
KernelRecord runKernelPull(const KernelPullRequest& request, KernelEnvironment& env,
                           JobContext& job);

struct KernelImportRequest {
  std::string name;
  std::string vmlinux;  // an ELF vmlinux (a bzImage is unpacked)
  std::string initrd;   // used as it is
  std::string modules;  // a directory: banger builds the initrd from it
};

// Checks the request's paths before any work: InvalidArgument naming the option.
void checkImportPaths(const KernelImportRequest& request);

KernelRecord runKernelImport(const KernelImportRequest& request, KernelEnvironment& env);

}  // namespace banger::image
