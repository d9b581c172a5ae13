#include "net_client.h"

#include <sdbus-c++/sdbus-c++.h>
#include <unistd.h>

#include "banger/names.h"
#include "banger/options.h"
#include "peer_call.h"

namespace banger::vm {
namespace {
constexpr auto kTimeout = std::chrono::seconds(60);  // polkit may ask the user
}

BusNetClient::BusNetClient() = default;
BusNetClient::~BusNetClient() = default;

sdbus::IProxy& BusNetClient::proxy() {
  if (!proxy_) {
    connection_ = sdbus::createSystemBusConnection();
    proxy_ = sdbus::createProxy(*connection_, names::kNetBus, names::kNetPath);
  }
  return *proxy_;
}

MachineLease BusNetClient::acquire(const std::string& machineId, bool nat) {
  std::lock_guard lock(mutex_);
  return callPeer("org.banger.Net", [&] {
    MachineLease lease;
    VariantMap options{{"nat", sdbus::Variant(nat)}};
    proxy()
        .callMethod("AcquireLease")
        .onInterface(names::kNetManager)
        .withTimeout(kTimeout)
        .withArguments(machineId, options)
        .storeResultsTo(lease.tap, lease.mac, lease.address, lease.prefixLen, lease.gateway,
                        lease.nameservers);
    return lease;
  });
}

void BusNetClient::release(const std::string& machineId) {
  std::lock_guard lock(mutex_);
  callPeer("org.banger.Net", [&] {
    proxy()
        .callMethod("ReleaseLease")
        .onInterface(names::kNetManager)
        .withTimeout(kTimeout)
        .withArguments(machineId);
  });
}

void BusNetClient::setNat(const std::string& machineId, bool enabled) {
  std::lock_guard lock(mutex_);
  callPeer("org.banger.Net", [&] {
    proxy()
        .callMethod("SetNat")
        .onInterface(names::kNetManager)
        .withTimeout(kTimeout)
        .withArguments(machineId, enabled);
  });
}

std::vector<std::string> BusNetClient::leasedMachineIds() {
  std::lock_guard lock(mutex_);
  return callPeer("org.banger.Net", [&] {
    std::vector<sdbus::Struct<uint32_t, std::string, std::string, std::string, bool>> leases;
    proxy()
        .callMethod("ListLeases")
        .onInterface(names::kNetManager)
        .withTimeout(kTimeout)
        .storeResultsTo(leases);
    std::vector<std::string> ids;
    // Root sees every user's leases; the service's own are those of its uid.
    for (const auto& lease : leases)
      if (std::get<0>(lease) == ::geteuid()) ids.push_back(std::get<1>(lease));
    return ids;
  });
}

}  // namespace banger::vm
