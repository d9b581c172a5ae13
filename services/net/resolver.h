// Routing of `~vm` to banger's DNS through systemd-resolved's D-Bus API.
#pragma once

#include <memory>
#include <string>

namespace sdbus {
class IConnection;
}

namespace banger::net {

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Throws NotSupported (naming docs/dns-routing.md) when resolved is not running.
  virtual void route(int ifindex, const std::string& dnsAddress, uint16_t port,
                     const std::string& domain) = 0;
  virtual void revert(int ifindex) = 0;
};

// Talks to org.freedesktop.resolve1 on its own system-bus connection, from the thread
// that calls it (the Net worker), so the event loop never waits for resolved.
class ResolvedResolver final : public Resolver {
 public:
  ResolvedResolver();
  ~ResolvedResolver() override;
  void route(int ifindex, const std::string& dnsAddress, uint16_t port,
             const std::string& domain) override;
  void revert(int ifindex) override;

 private:
  sdbus::IConnection& bus();
  std::unique_ptr<sdbus::IConnection> connection_;
};

}  // namespace banger::net
