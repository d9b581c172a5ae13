// Image1.Manager.Pull's job (DESIGN §3, §6): resolve the reference, download the layers
// into the blob cache, write the rootfs (the image's layers under banger's injection
// layer, host keys left out) and the work seed in a staging directory, then publish.
#pragma once

#include <filesystem>
#include <string>

#include "banger/ext4/image_builder.h"
#include "banger/http.h"
#include "banger/job.h"
#include "guest_files.h"
#include "image_store.h"
#include "oci/reference.h"
#include "oci/registry.h"

namespace banger::image {

struct PullRequest {
  oci::Reference ref{};
  std::string name{};
  std::string kernel{};
  bool force = false;
  ext4::BuildLimits limits{};
  oci::RegistryPolicy policy{};
};

struct PullEnvironment {
  ImageStore& store;
  std::filesystem::path cacheRoot;  // …/banger/oci
  const http::Client& http;
  const GuestFiles& guest;
  unsigned parallelDownloads = 3;
};

// Runs on a worker thread; returns the published record. Any failure, cancel included,
// leaves no file and no record behind.
ImageRecord runPull(const PullRequest& request, PullEnvironment& env, JobContext& job);

// Fixed for every image, so that one digest always gives the same bytes.
inline constexpr std::int64_t kReproducibleTime = 315532800;  // 1980-01-01T00:00:00Z

// 16 bytes derived from `digest` for `purpose` (a filesystem UUID, a hash seed).
std::array<std::uint8_t, 16> derivedBytes(const std::string& purpose, const std::string& digest);

}  // namespace banger::image
