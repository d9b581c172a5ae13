// Follows the host-wide .vm routing that org.banger.Net keeps (docs/dns-routing.md): when
// this user owns it, asks Net for the privileged listener resolved sends .vm queries to
// and serves it; when the routing is turned off, lets go. Net's ResolverConfigured
// property, watched on the system bus, says when to ask again.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "banger/event_loop.h"
#include "dns_server.h"

namespace banger::dns {

class RoutedListener {
 public:
  // `changed` runs (on the loop thread) when the listener is taken or let go. Without a
  // system bus there is nothing to follow; the service serves D-Bus alone.
  RoutedListener(EventLoop& loop, DnsServer& server, std::function<void()> changed);
  ~RoutedListener();

  bool holding() const { return held_.has_value(); }
  std::string address() const { return held_ ? boundAddress(*held_) : std::string(); }

 private:
  void request();
  void release();
  void onResolverConfigured(bool configured);

  DnsServer& server_;
  std::function<void()> changed_;
  std::unique_ptr<sdbus::IConnection> bus_;
  std::unique_ptr<sdbus::IProxy> net_;
  std::optional<Listeners> held_;
  bool asking_ = false;
};

}  // namespace banger::dns
