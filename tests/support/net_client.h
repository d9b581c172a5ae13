// A client of org.banger.Net through the generated proxy.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include "org.banger.Net1.Manager_proxy.h"

namespace banger::test {

class NetClient final : public sdbus::ProxyInterfaces<org::banger::Net1::Manager_proxy> {
 public:
  explicit NetClient(sdbus::IConnection& bus)
      : ProxyInterfaces(bus, "org.banger.Net", "/org/banger/Net") {
    registerProxy();
  }
  ~NetClient() { unregisterProxy(); }
};

}  // namespace banger::test
