// Firewall through libnftables, confined to the table `inet banger`.
#pragma once

#include "host_network.h"

struct nft_ctx;

namespace banger::net {

class NftablesFirewall final : public Firewall {
 public:
  NftablesFirewall();
  ~NftablesFirewall() override;
  NftablesFirewall(const NftablesFirewall&) = delete;
  NftablesFirewall& operator=(const NftablesFirewall&) = delete;

  void rebuild(const std::string& bridge, const std::string& externalInterface,
               const std::vector<std::string>& natAddresses) override;

  // The ruleset text for these inputs (what rebuild() loads).
  static std::string ruleset(const std::string& bridge, const std::string& externalInterface,
                             const std::vector<std::string>& natAddresses);

 private:
  nft_ctx* ctx_ = nullptr;
};

}  // namespace banger::net
