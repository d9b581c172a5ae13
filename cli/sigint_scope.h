// SIGINT handled by `handler` for as long as one of these lives; the handler before it
// is put back after. The CLI's phases (following a job, running ssh, a whole `vm run`)
// each count Ctrl-C their own way, nested.
#pragma once

#include <signal.h>

namespace banger::cli {

class SigintScope {
 public:
  explicit SigintScope(void (*handler)(int)) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~SigintScope() { sigaction(SIGINT, &previous_, nullptr); }
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;

 private:
  struct sigaction previous_ {};
};

}  // namespace banger::cli
