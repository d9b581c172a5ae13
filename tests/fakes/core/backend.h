// What differs between the plain fake and the simulator: what InstanceStart does.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include "vm_config.h"

namespace fcfake {

// A VMM action that fails: 400 with {"fault_message": message}.
class ApiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request refused before the VMM sees it (parsing, ids): no "<resource> error: " prefix.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // InstanceStart, once. `config` stays alive and unchanged while the VMM runs. A
  // failure is thrown as ApiError (the text after "Start microvm error: "). `exit` ends
  // the VMM process with the given code (guest reset → 0), callable from any thread.
  virtual void start(VmConfig& config, std::function<void(int)> exit) = 0;
  virtual void sendCtrlAltDel() = 0;
  // Pause/Resume (PATCH /vm): a backend that cannot freeze its guest throws ApiError.
  virtual void setPaused(bool paused) = 0;
  // SIGTERM/SIGINT/SIGKILL-like termination of the VMM: the guest must not outlive it.
  virtual void terminate() {}
};

}  // namespace fcfake
