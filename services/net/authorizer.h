// Asks polkit whether a bus caller may do something. Answers arrive on the event-loop
// thread. Only polkit's "yes" allows; anything else refuses: a "no" or a polkit failure
// is a denial, an overloaded bus is Busy (try again), never a denial.
#pragma once

#include <sdbus-c++/sdbus-c++.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace banger::net {

struct AuthorizationRequest {
  uid_t uid = 0;       // the caller's, from the bus
  std::string sender;  // the caller's unique bus name
  std::string action;  // org.banger.Net.manage-leases, org.banger.Net.configure-host
  std::map<std::string, std::string> details;
};

enum class Verdict { Allowed, Denied, Busy };

class Authorizer {
 public:
  using Done = std::function<void(Verdict verdict, const std::string& why)>;
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
