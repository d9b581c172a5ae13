// net-call: one call to org.banger.Net through the generated proxy, as whoever runs it
// (tests run it under setpriv as other uids). Prints "ok ..." or "error NAME MESSAGE".
//   net-call acquire VM_ID [nat=true|false]   net-call release VM_ID
//   net-call setnat VM_ID true|false           net-call list
//   net-call resolver true|false               net-call acquire-raw VM_ID KEY s|b VALUE
//   net-call dns-listener                      OpenDnsListener: "ok" with two fds
//   net-call acquire-keys VM_ID N     AcquireLease with an options dictionary of N keys,
//                                      built with sd-bus itself (sdbus-c++ would need
//                                      gigabytes to build a million Variants)
//   net-call flood IN_FLIGHT CONNECTIONS SECONDS
//       keeps IN_FLIGHT AcquireLease calls outstanding, spread over CONNECTIONS bus
//       connections (the bus lets each wait for 128 replies), for SECONDS; prints
//       "ok <error name>=<count>..." (success counted as "ok").
#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-bus.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "net_client.h"

namespace {

int usage() {
  std::cerr << "usage: net-call acquire|release|setnat|list|resolver|acquire-raw ...\n";
  return 2;
}
// One connection's share of a flood: each answer sends the next call until the deadline.
class Flooder {
 public:
  Flooder(size_t inFlight, std::chrono::steady_clock::time_point until)
      : bus_(sdbus::createSystemBusConnection()),
        net_(sdbus::createProxy(*bus_, "org.banger.Net", "/org/banger/Net")),
        until_(until),
        outstanding_(inFlight) {
    bus_->enterEventLoopAsync();
    for (size_t i = 0; i < inFlight; ++i) send();
  }
  ~Flooder() { bus_->leaveEventLoop(); }
  bool finished() const { return outstanding_ == 0; }
  std::map<std::string, int> counts() {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  void send() {
    net_->callMethodAsync("AcquireLease")
        .onInterface("org.banger.Net1.Manager")
        .withArguments(std::string("flood-") + std::to_string(next_++),
                       std::map<std::string, sdbus::Variant>{})
        .uponReplyInvoke([this](const sdbus::Error* error, std::string, std::string, std::string,
                                uint32_t, std::string, std::vector<std::string>) {
          {
            std::lock_guard lock(mutex_);
            ++counts_[error ? error->getName() : "ok"];
          }
          if (std::chrono::steady_clock::now() < until_) {
            send();
          } else {
            --outstanding_;
          }
        });
  }
  std::unique_ptr<sdbus::IConnection> bus_;
  std::unique_ptr<sdbus::IProxy> net_;
  std::chrono::steady_clock::time_point until_;
  std::atomic<size_t> outstanding_;
  std::atomic<unsigned> next_{0};
  std::mutex mutex_;
  std::map<std::string, int> counts_;
};

int acquireWithKeys(const std::string& vmId, size_t keys) {
  sd_bus* bus = nullptr;
  sd_bus_message* call = nullptr;
  sd_bus_message* reply = nullptr;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r = sd_bus_open_system(&bus);
  if (r >= 0) {
    r = sd_bus_message_new_method_call(bus, &call, "org.banger.Net", "/org/banger/Net",
                                       "org.banger.Net1.Manager", "AcquireLease");
  }
  if (r >= 0) r = sd_bus_message_append(call, "s", vmId.c_str());
  if (r >= 0) r = sd_bus_message_open_container(call, 'a', "{sv}");
  for (size_t i = 0; r >= 0 && i < keys; ++i) {
    r = sd_bus_message_append(call, "{sv}", ("key" + std::to_string(i)).c_str(), "b", 1);
  }
  if (r >= 0) r = sd_bus_message_close_container(call);
  if (r < 0) {
    std::cout << "failed building the call: " << strerror(-r) << "\n";
    return 1;
  }
  if (sd_bus_call(bus, call, 120'000'000, &error, &reply) < 0) {
    std::cout << "error " << error.name << " " << (error.message ? error.message : "") << "\n";
  } else {
    std::cout << "ok\n";
  }
  sd_bus_error_free(&error);
  sd_bus_message_unref(reply);
  sd_bus_message_unref(call);
  sd_bus_flush_close_unref(bus);
  return 0;
}

int flood(size_t inFlight, size_t connections, int seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<std::unique_ptr<Flooder>> flooders;
  for (size_t i = 0; i < connections; ++i) {
    flooders.push_back(std::make_unique<Flooder>(inFlight / connections, until));
  }
  for (auto& f : flooders) {
    while (!f->finished()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::map<std::string, int> total;
  for (auto& f : flooders) {
    for (const auto& [name, n] : f->counts()) total[name] += n;
  }
  std::cout << "ok";
  for (const auto& [name, n] : total) std::cout << " " << name << "=" << n;
  std::cout << "\n";
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string verb = argv[1];
  auto arg = [&](int i) { return i < argc ? std::string(argv[i]) : std::string(); };
  try {
    if (verb == "acquire-keys") return acquireWithKeys(arg(2), std::stoul(arg(3)));
    if (verb == "flood") return flood(std::stoul(arg(2)), std::stoul(arg(3)), std::stoi(arg(4)));
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
    } else if (verb == "dns-listener") {
      auto [udp, tcp] = net.OpenDnsListener();
      std::cout << (udp.isValid() && tcp.isValid() ? "ok\n" : "no descriptors\n");
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
