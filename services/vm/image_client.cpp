#include "image_client.h"

#include <sdbus-c++/sdbus-c++.h>

#include <thread>

#include "banger/errors.h"
#include "banger/names.h"
#include "banger/options.h"
#include "peer_call.h"

namespace banger::vm {
namespace {

constexpr const char* kImageService = "org.banger.Image";
constexpr auto kCallTimeout = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(200);

using Properties = std::map<std::string, sdbus::Variant>;

Properties properties(sdbus::IConnection& bus, const sdbus::ObjectPath& path,
                      const char* interface) {
  auto proxy = sdbus::createProxy(bus, names::kImageBus, path);
  Properties out;
  proxy->callMethod("GetAll")
      .onInterface(names::kProperties)
      .withTimeout(kCallTimeout)
      .withArguments(std::string(interface))
      .storeResultsTo(out);
  return out;
}

template <class T>
T property(const Properties& all, const std::string& name) {
  auto it = all.find(name);
  return it == all.end() ? T{} : it->second.get<T>();
}

std::optional<sdbus::ObjectPath> find(sdbus::IProxy& manager, const char* method,
                                      const std::string& name) {
  try {
    sdbus::ObjectPath path;
    manager.callMethod(method)
        .onInterface(names::kImageManager)
        .withTimeout(kCallTimeout)
        .withArguments(name)
        .storeResultsTo(path);
    return path;
  } catch (const sdbus::Error& error) {
    if (error.getName() == errorName(ErrorCode::NotFound)) return std::nullopt;
    throw;
  }
}

bool inCatalog(sdbus::IProxy& manager, const std::string& name, const std::string& kind) {
  std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>> entries;
  manager.callMethod("Catalog")
      .onInterface(names::kImageManager)
      .withTimeout(kCallTimeout)
      .storeResultsTo(entries);
  for (const auto& entry : entries)
    if (std::get<0>(entry) == name && std::get<1>(entry) == kind) return true;
  return false;
}

// Follows an Image job until it ends, relaying its detail and bytes; throws its error.
void follow(sdbus::IConnection& bus, const sdbus::ObjectPath& job, const PullObserver& observe,
            const std::atomic<bool>* cancel) {
  auto proxy = sdbus::createProxy(bus, names::kImageBus, job);
  for (;;) {
    Properties all;
    proxy->callMethod("GetAll")
        .onInterface(names::kProperties)
        .withTimeout(kCallTimeout)
        .withArguments(std::string(names::kJob))
        .storeResultsTo(all);
    const std::string state = property<std::string>(all, "State");
    observe({property<std::string>(all, "Stage") + ": " + property<std::string>(all, "Detail"),
             property<uint64_t>(all, "CompletedBytes"), property<uint64_t>(all, "TotalBytes")});
    if (state == "succeeded") return;
    if (state != "running")
      fail(errorCodeFromName(property<std::string>(all, "ErrorName")),
           property<std::string>(all, "ErrorMessage"));
    if (cancel && cancel->load()) {
      proxy->callMethod("Cancel").onInterface(names::kJob).withTimeout(kCallTimeout);
      fail(ErrorCode::Canceled, "canceled while the Image service was pulling");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool looksLikeOciReference(const std::string& ref) {
  return ref.find('/') != std::string::npos || ref.find(':') != std::string::npos ||
         ref.find('@') != std::string::npos;
}

}  // namespace

BusImageClient::BusImageClient() = default;
BusImageClient::~BusImageClient() = default;

sdbus::IConnection& BusImageClient::bus() {
  if (!connection_) connection_ = sdbus::createSessionBusConnection();
  return *connection_;
}

BootSet BusImageClient::resolve(const std::string& image, const std::string& kernel,
                                const PullObserver& observe, const std::atomic<bool>* cancel) {
  // The shared connection serves one thread at a time; a pull, which may take minutes, is
  // followed on a connection of its own with the lock let go, so creates of images that are
  // already here never wait behind it.
  std::unique_lock lock(mutex_);
  const auto followAlone = [&](const sdbus::ObjectPath& job) {
    lock.unlock();
    try {
      follow(*sdbus::createSessionBusConnection(), job, observe, cancel);
    } catch (...) {
      lock.lock();
      throw;
    }
    lock.lock();
  };
  return callPeer(kImageService, [&] {
    auto manager = sdbus::createProxy(bus(), names::kImageBus, names::kImagePath);
    std::optional<sdbus::ObjectPath> imagePath = find(*manager, "FindImage", image);
    if (!imagePath) {
      if (!inCatalog(*manager, image, "image") && !looksLikeOciReference(image))
        fail(ErrorCode::NotFound, "no image " + image +
                                      " here or in the catalog; see `banger image catalog` and "
                                      "`banger image list`");
      sdbus::ObjectPath job;
      sdbus::ObjectPath pulled;
      manager->callMethod("Pull")
          .onInterface(names::kImageManager)
          .withTimeout(kCallTimeout)
          .withArguments(image, VariantMap{})
          .storeResultsTo(pulled, job);
      followAlone(job);
      imagePath = pulled;
    }
    const Properties imageProps = properties(bus(), *imagePath, names::kImageImage);
    BootSet set;
    set.image = property<std::string>(imageProps, "Name");
    set.rootfs = property<std::string>(imageProps, "RootfsPath");
    set.workSeed = property<std::string>(imageProps, "WorkSeedPath");
    set.kernel = kernel.empty() ? property<std::string>(imageProps, "Kernel") : kernel;
    if (set.kernel.empty())
      fail(ErrorCode::NotFound, "image " + set.image +
                                    " names no kernel; pass one (--kernel-ref) or see `banger "
                                    "kernel list`");
    std::optional<sdbus::ObjectPath> kernelPath = find(*manager, "FindKernel", set.kernel);
    if (!kernelPath) {
      if (!inCatalog(*manager, set.kernel, "kernel"))
        fail(ErrorCode::NotFound, "no kernel " + set.kernel +
                                      " here or in the catalog; see `banger image catalog` and "
                                      "`banger kernel list`");
      sdbus::ObjectPath job;
      sdbus::ObjectPath pulled;
      manager->callMethod("PullKernel")
          .onInterface(names::kImageManager)
          .withTimeout(kCallTimeout)
          .withArguments(set.kernel, VariantMap{})
          .storeResultsTo(pulled, job);
      followAlone(job);
      kernelPath = pulled;
    }
    const Properties kernelProps = properties(bus(), *kernelPath, names::kImageKernel);
    set.vmlinux = property<std::string>(kernelProps, "VmlinuxPath");
    set.initrd = property<std::string>(kernelProps, "InitrdPath");
    return set;
  });
}

}  // namespace banger::vm
