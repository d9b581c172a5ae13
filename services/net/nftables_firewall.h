// Firewall through libnftables, confined to the tables `inet banger` and `bridge banger`.
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

  void apply(const FirewallState& state) override;

  // The ruleset text for a state (what apply() loads). docs/net.md explains each rule.
  static std::string ruleset(const FirewallState& state);

 private:
  nft_ctx* ctx_ = nullptr;
};

}  // namespace banger::net
