#include "pull_job.h"

#include <sys/stat.h>

#include <atomic>

#include "banger/errors.h"
#include "banger/log.h"
#include "injection.h"
#include "layered_volume.h"
#include "oci/blob_cache.h"
#include "oci/pull.h"
#include "oci/sha256.h"
#include "work_seed.h"

namespace banger::image {
namespace {

std::string megabytes(std::uint64_t bytes) {
  return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

}  // namespace

std::array<std::uint8_t, 16> derivedBytes(const std::string& purpose, const std::string& digest) {
  const std::string hex = oci::sha256Digest("banger " + purpose + "\n" + digest).substr(7);
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // shaped like a v4 UUID
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  return bytes;
}

ImageRecord runPull(const PullRequest& request, PullEnvironment& env, JobContext& job) {
  const std::string what = request.ref.canonical();
  job.stage("resolve", what);
  oci::RegistryClient registry(env.http, request.policy, job.cancelFlag());
  oci::ResolvedImage image = oci::resolveImage(registry, request.ref);
  job.throwIfCanceled();

  oci::BlobCache cache(env.cacheRoot);
  std::size_t cached = 0;
  for (const auto& layer : image.manifest.layers) cached += cache.has(layer) ? 1 : 0;
  const std::size_t count = image.manifest.layers.size();
  job.stage("download", std::to_string(count) + (count == 1 ? " layer, " : " layers, ") +
                            megabytes(image.layerBytes) + ", " + std::to_string(cached) +
                            " already cached");
  std::atomic<std::uint64_t> received{0};
  auto layerFiles = oci::fetchLayers(
      registry, cache, image, env.parallelDownloads,
      [&](std::uint64_t bytes) { job.progress(received += bytes, image.layerBytes); });
  job.throwIfCanceled();

  StagedImage staging(env.store);
  job.stage("write", megabytes(image.layerBytes) + " of layers into " + request.name);
  const std::string injected = injectionLayer(kReproducibleTime, env.guest);
  std::vector<LayerInput> layers;
  layers.push_back({[&] {
                      return ext4::TarReader::openMemory(injected.data(), injected.size(),
                                                         "banger's layer");
                    },
                    injected.size()});
  for (std::size_t i = layerFiles.size(); i-- > 0;) {
    const std::string file = layerFiles[i].string();
    const std::string label = "layer " + image.manifest.layers[i].digest + " of " + what;
    layers.push_back({[file, label] { return ext4::TarReader::openFile(file, label); },
                      image.manifest.layers[i].size});
  }
  const std::filesystem::path rootfs = staging.dir() / ImageStore::kRootfsFile;
  LayeredVolume spec{
      .format =
          ext4::FormatOptions{.sizeBytes = guessImageBytes(image.layerBytes),
                              .uuid = derivedBytes("rootfs uuid", image.manifestDigest),
                              .hashSeed = derivedBytes("rootfs hash seed", image.manifestDigest),
                              .timestamp = kReproducibleTime,
                              .label = "banger-rootfs"},
      .limits = request.limits,
      .configure = [](ext4::ImageBuilder& builder) { builder.exclude(isSshHostKey); },
      .progress =
          [&](std::uint64_t done, std::uint64_t total) {
            job.throwIfCanceled();
            job.progress(done, total);
          }};
  ext4::BuildStats stats = writeLayeredVolume(rootfs.string(), layers, spec);
  for (const auto& warning : stats.warnings) log::warning(what + ": " + warning);
  if (::chmod(rootfs.c_str(), 0444) != 0)
    fail(ErrorCode::Failed, "cannot make " + rootfs.string() + " read-only");

  buildWorkSeed(
      rootfs, staging.dir() / ImageStore::kWorkSeedFile, staging.dir() / "root.tar",
      WorkSeedOptions{.uuid = derivedBytes("work seed uuid", image.manifestDigest),
                      .hashSeed = derivedBytes("work seed hash seed", image.manifestDigest),
                      .timestamp = kReproducibleTime,
                      .limits = request.limits});
  job.throwIfCanceled();

  job.stage("publish", request.name);
  ImageRecord record{.name = request.name,
                     .id = staging.id(),
                     .source = "oci",
                     .reference = what,
                     .digest = image.manifestDigest,
                     .kernel = request.kernel,
                     .rootfsBytes = std::filesystem::file_size(rootfs),
                     .createdAtUs = nowMicroseconds()};
  auto replaced = staging.publish(record, request.force);
  if (replaced) env.store.removeFiles(replaced->id);
  log::info("pulled " + what + " as image " + record.name + " (" + std::to_string(stats.written) +
            " entries, " + megabytes(stats.dataBytes) + ")");
  return record;
}

}  // namespace banger::image
