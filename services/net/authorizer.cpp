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
      // The bus refusing more pending calls, or polkit not answering in time, is load:
      // the caller may try again. Anything else (no polkit at all) denies.
      const std::string& name = error->getName();
      const bool overloaded = name == "org.freedesktop.DBus.Error.LimitsExceeded" ||
                              name == "org.freedesktop.DBus.Error.NoReply" ||
                              name == "org.freedesktop.DBus.Error.Timeout";
      log::warning("polkit could not decide " + action + ": " + name + ": " + error->getMessage() +
                   (overloaded ? "; answering Busy" : "; denying"));
      done(overloaded ? Verdict::Busy : Verdict::Denied,
           overloaded ? "polkit is overloaded; try again"
                      : "polkit is not available to authorize " + action + " (" +
                            error->getMessage() + ")");
      return;
    }
    if (answer.get<0>()) {
      done(Verdict::Allowed, {});
    } else {
      done(Verdict::Denied,
           "not authorized for " + action +
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
    done(Verdict::Denied,
         "polkit is not available to authorize " + action + " (" + e.getMessage() + ")");
  }
}

}  // namespace banger::net
