// /org/banger/Net on the system bus: org.banger.Net1.Manager.
#pragma once

#include "banger/daemon.h"
#include "banger/options.h"
#include "org.banger.Net1.Manager_adaptor.h"

namespace banger::net {

inline constexpr const char* kBusName = "org.banger.Net";
inline constexpr const char* kRootPath = "/org/banger/Net";

struct NetSettings {
  std::string bridge = "banger0";
  std::string subnet = "172.16.0.0/24";
  std::string gateway = "172.16.0.1";
};

class NetManager final : public sdbus::AdaptorInterfaces<org::banger::Net1::Manager_adaptor,
                                                         sdbus::Properties_adaptor>,
                         public Service {
 public:
  NetManager(ServiceContext& context, NetSettings settings);
  ~NetManager() override;

 private:
  std::tuple<std::string, std::string, std::string, uint32_t, std::string, std::vector<std::string>>
  AcquireLease(const std::string& vm_id, const VariantMap& options) override;
  void ReleaseLease(const std::string& vm_id) override;
  void SetNat(const std::string& vm_id, const bool& enabled) override;
  std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string, bool>> ListLeases()
      override;
  void ConfigureResolver(const bool& enabled) override;
  std::string Bridge() override;
  std::string Subnet() override;
  std::string Gateway() override;
  bool ResolverConfigured() override;

  CallGuard& guard_;
  NetSettings settings_;
};

}  // namespace banger::net
