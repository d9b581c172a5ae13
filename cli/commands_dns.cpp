#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace banger::cli {

void addDnsCommands(CLI::App& app, Context& ctx) {
  auto* dns = app.add_subcommand("dns", "The .vm name server")->require_subcommand(1);
  auto json = std::make_shared<bool>(false);

  auto* status = dns->add_subcommand("status", "Show where the .vm zone is served");
  status->add_flag("--json", *json, "Print JSON");
  onRun(status, ctx, [&ctx, json] {
    auto client = ctx.buses.dns();
    nlohmann::json out = {{"listen_address", client.ListenAddress()},
                          {"zone", client.Zone()},
                          {"record_count", client.RecordCount()}};
    if (*json) {
      std::cout << out.dump(2) << "\n";
    } else {
      const std::string listen = out["listen_address"];
      std::cout << "zone:    " << out["zone"].get<std::string>() << "\n"
                << "listen:  "
                << (listen.empty() ? "nothing: the host's .vm routing is not yours, or not "
                                     "configured (see docs/dns-routing.md)"
                                   : listen)
                << "\n"
                << "records: " << out["record_count"].get<uint32_t>() << "\n";
    }
    return 0;
  });

  // The routing of .vm has one owner on the host: whoever turns it on (docs/dns-routing.md).
  auto* route = dns->add_subcommand("route", "Route the host's .vm names to your VMs, or stop");
  auto state = std::make_shared<std::string>();
  route->add_option("STATE", *state, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
  onRun(route, ctx, [&ctx, state] {
    ctx.buses.net().ConfigureResolver(*state == "on");
    std::cout << (*state == "on" ? ".vm now resolves to your VMs through systemd-resolved\n"
                                 : ".vm routing removed\n");
    return 0;
  });

  auto* records = dns->add_subcommand("records", "List the names the zone answers");
  records->add_flag("--json", *json, "Print JSON");
  onRun(records, ctx, [&ctx, json] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : ctx.buses.dns().ListRecords()) {
      out.push_back({{"name", r.get<0>()}, {"address", r.get<1>()}});
      if (!*json) std::cout << r.get<0>() << "\t" << r.get<1>() << "\n";
    }
    if (*json) std::cout << out.dump(2) << "\n";
    return 0;
  });
}

}  // namespace banger::cli
