// /org/banger/Net on the system bus: org.banger.Net1.Manager.
// Every method: validate the arguments, authorize the caller (polkit; root skips), then
// change the host on the Net worker thread, which runs one call at a time.
#pragma once

#include <memory>

#include "authorization_queue.h"
#include "authorizer.h"
#include "banger/async_reply.h"
#include "banger/daemon.h"
#include "banger/names.h"
#include "banger/options.h"
#include "dns_routing.h"
#include "lease_manager.h"
#include "org.banger.Net1.Manager_adaptor.h"
#include "resolver.h"

namespace banger::net {

inline constexpr const char* kBusName = names::kNetBus;
inline constexpr const char* kRootPath = names::kNetPath;
inline constexpr const char* kManageLeases = names::kManageLeases;
inline constexpr const char* kConfigureHost = names::kConfigureHost;
// Every Net call is a vm_id and a few options: anything much bigger is refused unread.
inline constexpr MessageBudget kMessageBudget{256, 16 * 1024};

// Throws InvalidArgument unless vm_id is 1-64 of [A-Za-z0-9._-], starting alphanumeric.
void validateVmId(const std::string& vmId);

struct NetDependencies {
  std::unique_ptr<HostNetwork> network;
  std::unique_ptr<Firewall> firewall;
  std::unique_ptr<Authorizer> authorizer;
  std::unique_ptr<Resolver> resolver;
  std::function<std::vector<std::string>()> nameservers;
};

class NetManager final : public sdbus::AdaptorInterfaces<org::banger::Net1::Manager_adaptor,
                                                         sdbus::Properties_adaptor>,
                         public Service {
 public:
  // Reconciles the host with the database before the object is exported.
  NetManager(ServiceContext& context, NetConfig config, const std::filesystem::path& database,
             NetDependencies dependencies);
  ~NetManager() override;

  bool busy() const override { return worker_.pending() > 0 || trimTimer_.has_value(); }

 private:
  using LeaseResult = sdbus::Result<std::string, std::string, std::string, uint32_t, std::string,
                                    std::vector<std::string>>;
  using LeaseRows =
      std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string, bool>>;

  void AcquireLease(LeaseResult&& result, std::string vm_id, VariantMap options) override;
  void ReleaseLease(sdbus::Result<>&& result, std::string vm_id) override;
  void SetNat(sdbus::Result<>&& result, std::string vm_id, bool enabled) override;
  void ListLeases(sdbus::Result<LeaseRows>&& result) override;
  void ConfigureResolver(sdbus::Result<>&& result, bool enabled) override;
  void OpenDnsListener(sdbus::Result<sdbus::UnixFd, sdbus::UnixFd>&& result) override;
  std::string Bridge() override;
  std::string Subnet() override;
  std::string Gateway() override;
  bool ResolverConfigured() override;

  struct Caller {
    uid_t uid;
    std::string sender;
  };
  Caller caller();

  // Runs `work` on the Net worker once `caller` may do `action`; errors go to `reply`.
  template <class Reply, class Work>
  void authorizeThen(const Caller& caller, const char* action,
                     std::map<std::string, std::string> details, const Reply& reply, Work work);
  template <class Reply, class Work>
  void onWorker(const Reply& reply, Work work);
  // ResolverConfigured and its PropertiesChanged (loop thread).
  void publishResolverConfigured(bool configured);
  // Trims the TAP pools once releases have been quiet for a while (loop thread).
  void scheduleTrim();

  CallGuard& guard_;
  EventLoop& loop_;
  // The runtime's pool, one thread (main.cpp): host changes run one at a time, in order.
  // runDaemon drains it before this object goes.
  WorkerPool& worker_;
  NetDependencies deps_;
  LeaseStore store_;
  LeaseManager leases_;
  DnsRouting routing_;
  AuthorizationQueue authorization_;
  bool resolverConfigured_ = false;  // mirrored from the database, read on the loop thread
  std::optional<EventLoop::TimerId> trimTimer_;
};

}  // namespace banger::net
