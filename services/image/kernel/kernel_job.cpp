#include "kernel/kernel_job.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "banger/errors.h"
#include "banger/log.h"
#include "debian/archive.h"
#include "kernel/bundle.h"
#include "kernel/kernel_parts.h"
#include "oci/blob_cache.h"
#include "pull_job.h"

namespace banger::image {
namespace {

namespace fs = std::filesystem;

std::string mebibytes(std::uint64_t bytes) {
  return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

void writeFileSynced(const fs::path& path, std::string_view bytes, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    fail(ErrorCode::Failed, "cannot create " + path.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(fd, bytes.data() + done, std::min<std::size_t>(bytes.size() - done, 1 << 20));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      fail(ErrorCode::Failed, "cannot write " + path.string() + ": " + std::strerror(error));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    fail(ErrorCode::Failed, "cannot write " + path.string() + ": " + std::strerror(errno));
}

std::string readWhole(const std::string& path, std::uint64_t maxBytes, const std::string& option) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error) fail(ErrorCode::InvalidArgument, option + ": " + path + ": " + error.message());
  if (size > maxBytes)
    fail(ErrorCode::InvalidArgument,
         option + ": " + path + " is larger than " + mebibytes(maxBytes));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) fail(ErrorCode::InvalidArgument, option + ": cannot read " + path);
  return bytes.str();
}

// The ELF kernel in `bytes`, unpacking a bzImage first; `label` names it in errors.
KernelParts kernelFromBytes(std::string bytes, const std::string& label) {
  KernelParts parts;
  try {
    if (isBzImage(bytes)) {
      std::string compression;
      parts.vmlinux = vmlinuxFromBzImage(bytes, compression);
      parts.facts = inspectVmlinux(parts.vmlinux);
      parts.facts.compression = compression;
    } else {
      parts.vmlinux = std::move(bytes);
      parts.facts = inspectVmlinux(parts.vmlinux);
    }
  } catch (const Error& error) {
    fail(error.code(), label + ": " + error.what());
  }
  return parts;
}

struct Published {
  std::string name, source, reference;
  bool force = false;
};

KernelRecord publishParts(KernelEnvironment& env, StagedImage& staging, const Published& what,
                          const KernelParts& parts, bool bangerInitrd,
                          const std::string& ownInitrd) {
  writeFileSynced(staging.dir() / ImageStore::kVmlinuxFile, parts.vmlinux, 0444);
  std::string modules;
  for (const KernelModule& module : parts.modules)
    modules += (modules.empty() ? "" : " ") + module.name;
  if (bangerInitrd) {
    writeFileSynced(staging.dir() / ImageStore::kInitrdFile,
                    buildInitrd(env.guest.init(), parts.modules, kReproducibleTime), 0444);
  } else if (!ownInitrd.empty()) {
    writeFileSynced(staging.dir() / ImageStore::kInitrdFile,
                    readWhole(ownInitrd, 1ull << 30, "initrd"), 0444);
  }
  if (!parts.facts.pvhEntry)
    log::warning("kernel " + what.name + " (" + parts.facts.version +
                 ") has no PVH entry note; Firecracker boots it with the 64-bit Linux protocol");
  KernelRecord record{.name = what.name,
                      .id = staging.id(),
                      .version = parts.facts.version,
                      .source = what.source,
                      .reference = what.reference,
                      .hasInitrd = bangerInitrd || !ownInitrd.empty(),
                      .pvh = parts.facts.pvhEntry,
                      .modules = modules,
                      .createdAtUs = nowMicroseconds()};
  const auto replaced = staging.publish(record, what.force);
  if (replaced) env.store.removeKernelFiles(replaced->id);
  log::info("kernel " + record.name + ": Linux " + record.version + " from " + record.reference +
            (record.hasInitrd ? ", initrd with " + std::to_string(parts.modules.size()) + " modules"
                              : ""));
  return record;
}

oci::BlobCache::Fetch fetchUrl(const http::Client& http, const std::string& url,
                               const std::atomic<bool>* cancel) {
  return [&http, url, cancel](const std::function<void(std::string_view)>& sink) {
    http::Request request;
    request.url = url;
    request.maxRedirects = 5;
    request.lowSpeedWindow = std::chrono::seconds(30);
    const http::Response response = http.stream(request, sink, cancel);
    http::requireSuccess(request, response);
  };
}

KernelRecord pullDebianKernel(const KernelPullRequest& request, KernelEnvironment& env,
                              JobContext& job) {
  std::string suites;
  for (const debian::Suite& suite : request.suites)
    suites += (suites.empty() ? "" : ", ") + suite.name;
  job.stage("verify", "the signed package indices of " + suites);
  debian::ArchiveOptions options;
  options.suites = request.suites;
  options.keyring = env.keyring;
  debian::Archive archive(env.http, env.processes, options, job.cancelFlag());
  std::uint64_t indexBytes = 0;
  const auto entries = archive.packages(
      "linux-image-", [&](std::uint64_t bytes) { job.progress(indexBytes += bytes, 0); });
  const debian::PackageEntry& meta = debian::newest(entries, kDebianKernelPackage);
  const debian::PackageEntry& package = debian::dependency(meta, entries, "linux-image-");
  job.throwIfCanceled();

  job.stage("download", package.package + " " + package.version + " from " + package.suite.name +
                            ", " + mebibytes(package.size));
  oci::BlobCache cache(env.cacheRoot / "debian");
  std::uint64_t received = 0;
  oci::Descriptor blob;
  blob.digest = "sha256:" + package.sha256;
  blob.size = package.size;
  const fs::path deb =
      cache.ensure(blob, package.url(), fetchUrl(env.http, package.url(), job.cancelFlag()),
                   [&](std::uint64_t bytes) { job.progress(received += bytes, package.size); });
  job.throwIfCanceled();

  job.stage("unpack", deb.filename().string());
  StagedImage staging(env.store);
  const KernelParts parts = kernelFromDebianPackage(deb.string(), staging.dir(), job.cancelFlag());
  job.stage("initrd", "banger-init and " + std::to_string(parts.modules.size()) + " modules");
  const Published what{request.name, "catalog",
                       package.package + " " + package.version + " (" + package.suite.name + ")",
                       request.force};
  KernelRecord record = publishParts(env, staging, what, parts, true, "");
  job.stage("publish", request.name);
  return record;
}

KernelRecord pullBundle(const KernelPullRequest& request, KernelEnvironment& env, JobContext& job) {
  const CatalogEntry& entry = request.entry;
  job.stage("download", entry.url);
  std::uint64_t received = 0;
  const fs::path blob =
      oci::BlobCache(env.cacheRoot / "bundles")
          .ensureUnsized("sha256:" + entry.sha256, kMaxBundleBytes, entry.url,
                         fetchUrl(env.http, entry.url, job.cancelFlag()),
                         [&](std::uint64_t bytes) { job.progress(received += bytes, 0); });
  job.throwIfCanceled();
  job.stage("unpack", entry.url);
  StagedImage scratch(env.store);  // the unpacked bundle; never published
  StagedImage staging(env.store);
  const BundleFiles files = unpackBundle(blob.string(), scratch.dir(), entry.url);
  KernelParts parts = kernelFromBytes(readWhole(files.vmlinux, 256ull << 20, "bundle vmlinux"),
                                      entry.url + ": vmlinux");
  job.stage("initrd", files.modules.empty() ? (files.initrd.empty() ? "none: everything built in"
                                                                    : "the bundle's own")
                                            : "banger-init and the bundle's modules");
  if (!files.modules.empty()) parts.modules = modulesFromDirectory(files.modules);
  KernelRecord record =
      publishParts(env, staging, {request.name, "bundle", entry.url, request.force}, parts,
                   !files.modules.empty(), files.initrd);
  job.stage("publish", request.name);
  return record;
}

}  // namespace

KernelRecord runKernelPull(const KernelPullRequest& request, KernelEnvironment& env,
                           JobContext& job) {
  return request.entry.origin == CatalogOrigin::KernelBundle ? pullBundle(request, env, job)
                                                             : pullDebianKernel(request, env, job);
}

void checkImportPaths(const KernelImportRequest& request) {
  const auto regular = [](const std::string& path, const std::string& option) {
    std::error_code error;
    if (path.empty() || path[0] != '/')
      fail(ErrorCode::InvalidArgument, "options: '" + option + "' must be an absolute path");
    if (!fs::is_regular_file(path, error) || ::access(path.c_str(), R_OK) != 0)
      fail(ErrorCode::InvalidArgument,
           "options: '" + option + "': " + path + " is not a readable regular file");
  };
  regular(request.vmlinux, "vmlinux");
  if (!request.initrd.empty()) regular(request.initrd, "initrd");
  if (!request.modules.empty()) {
    std::error_code error;
    if (request.modules[0] != '/' || !fs::is_directory(request.modules, error))
      fail(ErrorCode::InvalidArgument,
           "options: 'modules': " + request.modules + " is not an absolute path of a directory");
  }
  if (!request.initrd.empty() && !request.modules.empty())
    fail(
        ErrorCode::InvalidArgument,
        "options: give 'initrd' (used as it is) or 'modules' (banger builds the initrd), not both");
}

KernelRecord runKernelImport(const KernelImportRequest& request, KernelEnvironment& env) {
  KernelParts parts =
      kernelFromBytes(readWhole(request.vmlinux, 256ull << 20, "vmlinux"), request.vmlinux);
  if (!request.modules.empty()) parts.modules = modulesFromDirectory(request.modules);
  StagedImage staging(env.store);
  return publishParts(env, staging, {request.name, "imported", request.vmlinux, false}, parts,
                      !request.modules.empty(), request.initrd);
}

}  // namespace banger::image
