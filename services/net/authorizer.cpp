#include "authorizer.h"

#include "banger/log.h"

namespace banger::net {

PolkitAuthorizer::PolkitAuthorizer(sdbus::IConnection& connection)
    : authority_(sdbus::createProxy(connection, "org.freedesktop.PolicyKit1",
                                    "/org/freedesktop/PolicyKit1/Authority")) {}

void PolkitAuthorizer::check(const AuthorizationRequest& request, Done done) {
  using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;
  using Answer = sdbus::Struct<bool, bool, std::map<std::string, std::string>>;
  const Subject subject{"system-bus-name", {{"name", sdbus::Variant(request.sender)}}};
  const std::string action = request.action;
  auto onReply = [done, action](const sdbus::Error* error, const Answer& answer) {
    if (error != nullptr) {
      log::warning("polkit could not decide " + action + ": " + error->getName() + ": " +
                   error->getMessage() + "; denying");
      done(false,
           "polkit is not available to authorize " + action + " (" + error->getMessage() + ")");
      return;
    }
    if (answer.get<0>()) {
      done(true, {});
    } else {
      done(false, "not authorized for " + action +
                      ": join the 'banger' group (sudo usermod -aG banger $USER, then log in "
                      "again) or authenticate through a polkit agent");
    }
  };
  try {
    // Flags 0: never start an interactive authentication on the caller's behalf.
    authority_->callMethodAsync("CheckAuthorization")
        .onInterface("org.freedesktop.PolicyKit1.Authority")
        .withArguments(subject, action, request.details, uint32_t{0}, std::string())
        .uponReplyInvoke(onReply);
  } catch (const sdbus::Error& e) {
    done(false, "polkit is not available to authorize " + action + " (" + e.getMessage() + ")");
  }
}

}  // namespace banger::net
