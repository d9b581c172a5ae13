#include "routed_listener.h"

#include "banger/log.h"
#include "banger/names.h"

namespace banger::dns {

RoutedListener::RoutedListener(EventLoop& loop, DnsServer& server, std::function<void()> changed)
    : server_(server), changed_(std::move(changed)) {
  try {
    bus_ = sdbus::createSystemBusConnection();
  } catch (const sdbus::Error& e) {
    log::info("no system bus (" + e.getMessage() + "): not following Net's .vm routing");
    return;
  }
  loop.addConnection(*bus_);
  net_ = sdbus::createProxy(*bus_, names::kNetBus, names::kNetPath);
  // From the owner of org.banger.Net only (the proxy matches its sender): nobody else can
  // make this service let go of its listener or ask for one.
  net_->uponSignal("PropertiesChanged")
      .onInterface(names::kProperties)
      .call([this](const std::string& interface,
                   const std::map<std::string, sdbus::Variant>& changed,
                   const std::vector<std::string>&) {
        try {
          auto it = changed.find("ResolverConfigured");
          if (interface == names::kNetManager && it != changed.end() &&
              it->second.containsValueOfType<bool>()) {
            onResolverConfigured(it->second.get<bool>());
          }
        } catch (const std::exception& e) {
          log::warning(std::string("ignoring a malformed signal from Net: ") + e.what());
        }
      });
  net_->finishRegistration();
  request();
}

RoutedListener::~RoutedListener() {
  if (net_) net_->unregister();
  release();
}

void RoutedListener::onResolverConfigured(bool configured) {
  if (configured) {
    request();
  } else {
    release();
  }
}

void RoutedListener::request() {
  if (held_ || asking_) return;
  asking_ = true;
  net_->callMethodAsync("OpenDnsListener")
      .onInterface(names::kNetManager)
      .uponReplyInvoke([this](const sdbus::Error* error, sdbus::UnixFd udp, sdbus::UnixFd tcp) {
        asking_ = false;
        try {
          if (error != nullptr) {
            log::info("not serving the routed .vm listener: " + error->getMessage());
            return;
          }
          if (held_) return;
          Listeners listeners;
          listeners.udp.push_back(udp.release());
          listeners.tcp.push_back(tcp.release());
          server_.add(listeners);
          held_ = listeners;
          log::info("serving the routed .vm listener " + address());
          changed_();
        } catch (const std::exception& e) {
          log::warning(std::string("taking the routed .vm listener failed: ") + e.what());
        }
      });
}

void RoutedListener::release() {
  if (!held_) return;
  log::info("letting go of the routed .vm listener " + address());
  server_.remove(*held_);
  held_.reset();
  if (changed_) changed_();
}

}  // namespace banger::dns
