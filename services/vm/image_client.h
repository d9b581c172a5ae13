// org.banger.Image, as the Vm service uses it: an image's boot set (base rootfs, work
// seed, kernel and initrd), pulled first when it is in the catalog or is an OCI
// reference, with the Image job's progress relayed into the Vm job.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "banger/job.h"

namespace sdbus {
class IConnection;
}  // namespace sdbus

namespace banger::vm {

struct BootSet {
  std::string image;  // the image's name
  std::string kernel;
  std::string rootfs;
  std::string workSeed;
  std::string vmlinux;
  std::string initrd;  // empty: none
};

// What a relayed Image job reports: its detail, and bytes done of total (0 = unknown).
struct PullProgress {
  std::string detail;
  uint64_t completed = 0;
  uint64_t total = 0;
};
using PullObserver = std::function<void(const PullProgress&)>;

class ImageClient {
 public:
  virtual ~ImageClient() = default;
  // `kernel` empty: the image's own kernel. NotFound naming `banger image catalog` when
  // neither a local image nor a catalog entry nor an OCI reference matches.
  virtual BootSet resolve(const std::string& image, const std::string& kernel,
                          const PullObserver& observe, const std::atomic<bool>* cancel) = 0;
};

class BusImageClient final : public ImageClient {
 public:
  BusImageClient();
  ~BusImageClient() override;
  BootSet resolve(const std::string& image, const std::string& kernel, const PullObserver& observe,
                  const std::atomic<bool>* cancel) override;

 private:
  sdbus::IConnection& bus();
  std::mutex mutex_;
  std::unique_ptr<sdbus::IConnection> connection_;
};

}  // namespace banger::vm
