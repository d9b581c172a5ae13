// /org/banger/Dns: org.banger.Dns1.Manager, the .vm zone server and its record source.
#pragma once

#include <memory>

#include "banger/daemon.h"
#include "dns_server.h"
#include "org.banger.Dns1.Manager_adaptor.h"
#include "vm_follower.h"
#include "zone.h"

namespace banger::dns {

inline constexpr const char* kBusName = "org.banger.Dns";
inline constexpr const char* kRootPath = "/org/banger/Dns";
inline constexpr const char* kListenAddress = "127.0.0.1:42069";
inline constexpr const char* kZone = "vm";

class DnsManager final : public sdbus::AdaptorInterfaces<org::banger::Dns1::Manager_adaptor,
                                                         sdbus::Properties_adaptor>,
                         public Service {
 public:
  DnsManager(ServiceContext& context, std::string listenAddress, Listeners listeners);
  ~DnsManager() override;

 private:
  std::vector<sdbus::Struct<std::string, std::string>> ListRecords() override;
  std::vector<std::string> Resolve(const std::string& name) override;
  std::string ListenAddress() override;
  std::string Zone() override;
  uint32_t RecordCount() override;

  CallGuard& guard_;
  std::string listenAddress_;
  dns::Zone zone_;
  DnsServer server_;
  VmFollower follower_;
};

}  // namespace banger::dns
