// /org/banger/Image: org.banger.Image1.Manager + ObjectManager. The bus face validates,
// hands slow work to the pool (pulls as Job1 jobs, Register as an async reply) and owns
// the Image1.Image objects, which mirror the store's records on the loop thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>

#include "banger/async_reply.h"
#include "banger/config.h"
#include "banger/daemon.h"
#include "banger/errors.h"
#include "banger/http.h"
#include "banger/job.h"
#include "banger/names.h"
#include "banger/options.h"
#include "banger/paths.h"
#include "banger/process.h"
#include "guest_files.h"
#include "image_object.h"
#include "image_store.h"
#include "kernel_object.h"
#include "org.banger.Image1.Manager_adaptor.h"

namespace banger::image {

inline constexpr const char* kBusName = names::kImageBus;
inline constexpr const char* kRootPath = names::kImagePath;

class ImageManager final
    : public sdbus::AdaptorInterfaces<org::banger::Image1::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor>,
      public Service {
 public:
  // `processes` runs gpgv and mmdebstrap; `guest` holds banger-init and banger-agent.
  ImageManager(ServiceContext& context, UserPaths paths, ProcessRunner& processes,
               GuestFiles guest);
  ~ImageManager() override;

  bool busy() const override { return jobs_.count() > 0 || asyncCalls_ > 0; }

 private:
  using PathPair = std::tuple<sdbus::ObjectPath, sdbus::ObjectPath>;
  PathPair Pull(const std::string& ref, const VariantMap& options) override;
  void Register(sdbus::Result<sdbus::ObjectPath>&& result, VariantMap options) override;
  PathPair PullKernel(const std::string& name, const VariantMap& options) override;
  void ImportKernel(sdbus::Result<sdbus::ObjectPath>&& result, VariantMap options) override;
  std::vector<sdbus::Struct<std::string, std::string, std::string, std::string>> Catalog() override;
  sdbus::ObjectPath FindImage(const std::string& name) override;
  sdbus::ObjectPath FindKernel(const std::string& name) override;

  Config loadConfig() const;
  // Pull(kDefaultImage): mmdebstrap, and its kernel when missing (debian_image.h).
  PathPair pullDebianImage(const std::string& ref, const Options& opts);
  // Makes the object for `name` match the store (appear, be replaced, or go). Loop thread.
  void refreshObject(const std::string& name);
  void deleteImage(const std::string& name);
  void refreshKernel(const std::string& name);
  void deleteKernel(const std::string& name);
  // Loop thread: claims `name` in `reserved` for work that writes it. AlreadyExists
  // ("`what` named NAME exists" and `hint`) when `objects` has it and it is not to be
  // replaced; Busy while other work writes it.
  template <typename Object>
  void reserve(const std::map<std::string, std::unique_ptr<Object>>& objects,
               std::set<std::string>& reserved, const std::string& what, const std::string& name,
               bool replace, const std::string& hint) {
    if (!replace && objects.count(name))
      fail(ErrorCode::AlreadyExists, what + " named " + name + " exists" + hint);
    if (!reserved.insert(name).second)
      fail(ErrorCode::Busy, what + " named " + name + " is being written right now");
  }
  void releaseLater(std::set<std::string>& reserved, const std::string& name);  // any thread
  // Register's and ImportKernel's asynchronous reply: `work` runs on the pool for `name`,
  // which the caller reserved in `reserved`, and the service is busy until it ends; then
  // the name is released and, when the work succeeded, `publish` runs on the loop thread
  // and its path is the reply.
  void submitReserved(std::set<std::string>& reserved, const std::string& name,
                      const AsyncReply<sdbus::ObjectPath>& reply, std::function<void()> work,
                      std::function<sdbus::ObjectPath()> publish);
  // Runs `fn` on the loop thread later, unless this manager is gone by then.
  void later(std::function<void()> fn);
  // Takes `name`'s object out of `objects` now and destroys it later on the loop thread:
  // the caller may be that object's own handler.
  template <typename Object>
  void retireLater(std::map<std::string, std::unique_ptr<Object>>& objects,
                   const std::string& name) {
    auto it = objects.find(name);
    if (it == objects.end()) return;
    retired_.push_back(std::shared_ptr<Object>(std::move(it->second)));
    objects.erase(it);
    later([this] { retired_.clear(); });
  }

  sdbus::IConnection& connection_;
  EventLoop& loop_;
  WorkerPool& pool_;
  CallGuard& guard_;
  UserPaths paths_;
  ImageStore store_;
  http::Client http_;
  ProcessRunner& processes_;
  GuestFiles guest_;
  JobManager jobs_;
  std::map<std::string, std::unique_ptr<ImageObject>> images_;
  std::map<std::string, std::unique_ptr<KernelObject>> kernels_;
  std::vector<std::shared_ptr<void>> retired_;  // deleted objects, destroyed after the reply
  std::set<std::string> inProgress_;            // names a pull or register is writing
  std::set<std::string> kernelsInProgress_;     // kernel names a pull or import is writing
  std::atomic<int> asyncCalls_{0};              // Register and ImportKernel calls at work
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace banger::image
