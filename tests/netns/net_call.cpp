// net-call: one call to org.banger.Net through the generated proxy, as whoever runs it
// (tests run it under setpriv as other uids). Prints "ok ..." or "error NAME MESSAGE".
//   net-call acquire VM_ID [nat=true|false]   net-call release VM_ID
//   net-call setnat VM_ID true|false           net-call list
//   net-call resolver true|false               net-call acquire-raw VM_ID KEY s|b VALUE
#include <sdbus-c++/sdbus-c++.h>
#include <iostream>

#include "net_client.h"

namespace {

int usage() {
  std::cerr << "usage: net-call acquire|release|setnat|list|resolver|acquire-raw ...\n";
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string verb = argv[1];
  auto arg = [&](int i) { return i < argc ? std::string(argv[i]) : std::string(); };
  try {
    auto bus = sdbus::createSystemBusConnection();
    banger::test::NetClient net(*bus);
    if (verb == "acquire" || verb == "acquire-raw") {
      std::map<std::string, sdbus::Variant> options;
      if (verb == "acquire" && arg(3).rfind("nat=", 0) == 0) options["nat"] = arg(3) == "nat=true";
      if (verb == "acquire-raw") {
        options[arg(3)] = arg(4) == "b" ? sdbus::Variant(arg(5) == "true") : sdbus::Variant(arg(5));
      }
      auto [tap, mac, address, prefix, gateway, nameservers] = net.AcquireLease(arg(2), options);
      std::cout << "ok " << tap << " " << mac << " " << address << " " << prefix << " " << gateway
                << " " << nameservers.size() << "\n";
    } else if (verb == "release") {
      net.ReleaseLease(arg(2));
      std::cout << "ok\n";
    } else if (verb == "setnat") {
      net.SetNat(arg(2), arg(3) == "true");
      std::cout << "ok\n";
    } else if (verb == "list") {
      std::cout << "ok";
      for (const auto& l : net.ListLeases()) {
        std::cout << " " << l.get<0>() << ":" << l.get<1>() << ":" << l.get<2>() << ":"
                  << l.get<3>() << ":" << (l.get<4>() ? "nat" : "nonat");
      }
      std::cout << "\n";
    } else if (verb == "resolver") {
      net.ConfigureResolver(arg(2) == "true");
      std::cout << "ok\n";
    } else {
      return usage();
    }
  } catch (const sdbus::Error& e) {
    std::cout << "error " << e.getName() << " " << e.getMessage() << "\n";
  }
  return 0;
}
