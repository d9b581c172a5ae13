// Asks polkit whether a bus caller may do something. Answers arrive on the event-loop
// thread; no answer, or any error, is a denial.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace banger::net {

struct AuthorizationRequest {
  std::string sender;  // the caller's unique bus name
  std::string action;  // org.banger.Net.manage-leases, org.banger.Net.configure-host
  std::map<std::string, std::string> details;
};

class Authorizer {
 public:
  using Done = std::function<void(bool allowed, const std::string& why)>;
  virtual ~Authorizer() = default;
  virtual void check(const AuthorizationRequest& request, Done done) = 0;
};

class PolkitAuthorizer final : public Authorizer {
 public:
  explicit PolkitAuthorizer(sdbus::IConnection& connection);
  void check(const AuthorizationRequest& request, Done done) override;

 private:
  std::unique_ptr<sdbus::IProxy> authority_;
};

}  // namespace banger::net
