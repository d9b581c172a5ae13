// What the agent answers (docs/guest.md): GET /healthz and GET /ports, as JSON.
// `GET /healthz?systemd=no` leaves systemd's state out: asking it starts systemctl, about
// 20 ms of a booting guest's CPU, and the host's wait for the boot needs only the boot id.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "http_request.h"

namespace banger::guest {

struct HttpAnswer {
  int status = 200;
  std::string body;       // JSON
  bool allowGet = false;  // a 405 says which method is allowed
};

class AgentHandler {
 public:
  // `systemdState` answers `systemctl is-system-running`'s word ("running", …).
  AgentHandler(std::filesystem::path procRoot, std::function<std::string()> systemdState);

  HttpAnswer answer(const HttpRequest& request) const;

 private:
  std::string health(bool askSystemd) const;
  std::string ports() const;

  std::filesystem::path procRoot_;
  std::function<std::string()> systemdState_;
};

// The full answer on the wire; `close` adds Connection: close.
std::string renderAnswer(const HttpAnswer& answer, bool headOnly, bool close);

// An error answer: {"error": reason}.
HttpAnswer errorAnswer(int status, const std::string& reason);

// systemd's own state through systemctl, folded to running|degraded|starting|stopping|
// maintenance|offline|unknown; never waits more than 2 s for it.
std::string systemdStateFromSystemctl();

}  // namespace banger::guest
