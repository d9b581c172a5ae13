#include "nftables_firewall.h"

#include <nftables/libnftables.h>

#include "banger/errors.h"

namespace banger::net {

NftablesFirewall::NftablesFirewall() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
  if (ctx_ == nullptr) fail(ErrorCode::Failed, "cannot create an nftables context");
  nft_ctx_buffer_output(ctx_);
  nft_ctx_buffer_error(ctx_);
}

NftablesFirewall::~NftablesFirewall() { nft_ctx_free(ctx_); }

std::string NftablesFirewall::ruleset(const std::string& bridge,
                                      const std::string& externalInterface,
                                      const std::vector<std::string>& natAddresses) {
  // Leaving by the default-route interface; without a default route, by anything but
  // the bridge.
  const std::string out = externalInterface.empty() ? "oifname != \"" + bridge + "\""
                                                    : "oifname \"" + externalInterface + "\"";
  // "add" then "delete" makes the delete safe when the table does not exist yet; the
  // whole text is one atomic transaction. Without NAT leases the table is not there at all.
  const std::string reset = "add table inet banger\ndelete table inet banger\n";
  if (natAddresses.empty()) return reset;
  std::string elements;
  for (const auto& a : natAddresses) elements += (elements.empty() ? "" : ", ") + a;
  return reset +
         "table inet banger {\n"
         "  set nat_hosts {\n"
         "    type ipv4_addr\n"
         "    elements = { " +
         elements +
         " }\n"
         "  }\n"
         "  chain postrouting {\n"
         "    type nat hook postrouting priority srcnat; policy accept;\n"
         "    ip saddr @nat_hosts " +
         out +
         " masquerade\n"
         "  }\n"
         "  chain forward {\n"
         "    type filter hook forward priority filter; policy accept;\n"
         "    iifname \"" +
         bridge + "\" ip saddr @nat_hosts " + out +
         " accept\n"
         "    oifname \"" +
         bridge +
         "\" ct state established,related accept\n"
         "    iifname \"" +
         bridge + "\" oifname != \"" + bridge +
         "\" drop\n"
         "  }\n"
         "}\n";
}

void NftablesFirewall::rebuild(const std::string& bridge, const std::string& externalInterface,
                               const std::vector<std::string>& natAddresses) {
  const std::string text = ruleset(bridge, externalInterface, natAddresses);
  if (nft_run_cmd_from_buffer(ctx_, text.c_str()) != 0) {
    fail(ErrorCode::Failed, std::string("loading the nftables table inet banger failed: ") +
                                nft_ctx_get_error_buffer(ctx_));
  }
}

}  // namespace banger::net
