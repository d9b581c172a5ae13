// /org/banger/Dns: org.banger.Dns1.Manager, the .vm zone server and its record source.
#pragma once

#include <memory>

#include "banger/daemon.h"
#include "banger/names.h"
#include "dns_server.h"
#include "org.banger.Dns1.Manager_adaptor.h"
#include "routed_listener.h"
#include "vm_follower.h"
#include "zone.h"

namespace banger::dns {

inline constexpr const char* kBusName = names::kDnsBus;
inline constexpr const char* kRootPath = names::kDnsPath;
inline constexpr const char* kZone = names::kDnsZone;

// Where the zone is served: sockets from systemd or bound to a configured address, or
// else the routed listener Net hands over when this user owns the .vm routing.
struct DnsListening {
  Listeners listeners;
  bool followNetRouting = false;
};

class DnsManager final : public sdbus::AdaptorInterfaces<org::banger::Dns1::Manager_adaptor,
                                                         sdbus::Properties_adaptor>,
                         public Service {
 public:
  DnsManager(ServiceContext& context, DnsListening listening);
  ~DnsManager() override;

  // Serving the routed listener, it must not exit when idle: resolved sends .vm there.
  bool busy() const override { return routed_ && routed_->holding(); }

 private:
  std::vector<sdbus::Struct<std::string, std::string>> ListRecords() override;
  std::vector<std::string> Resolve(const std::string& name) override;
  std::string ListenAddress() override;
  std::string Zone() override;
  uint32_t RecordCount() override;
  void serveQueries(const char* why);

  // The first query may be what started this service: its sockets are read only once
  // the zone holds the Vm service's machines, or after this long without an answer.
  static constexpr std::chrono::milliseconds kZoneLoadWait{1000};

  EventLoop& loop_;
  CallGuard& guard_;
  EventLoop::TimerId zoneWait_ = 0;
  std::string listenAddress_;  // of the configured sockets; the routed one is asked for
  dns::Zone zone_;
  DnsServer server_;
  VmFollower follower_;
  std::unique_ptr<RoutedListener> routed_;
};

}  // namespace banger::dns
