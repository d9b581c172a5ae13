// A stand-in for the Vm service on a test bus: the real org.banger.Vm1.Manager and
// Machine interfaces (generated from interfaces/), with machines the test adds, changes
// and removes. It runs on banger's EventLoop on a thread of its own.
#pragma once

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "banger/bus_object.h"
#include "banger/dbus_call.h"
#include "banger/event_loop.h"
#include "banger/options.h"
#include "org.banger.Vm1.Machine_adaptor.h"
#include "org.banger.Vm1.Manager_adaptor.h"

namespace banger::test {

class StandInMachine;
class StandInManager;

class StandInVm {
 public:
  explicit StandInVm(std::unique_ptr<sdbus::IConnection> connection);
  ~StandInVm();

  // Each call runs on the stand-in's loop and returns once the signals are out.
  void add(const std::string& name, const std::string& state, const std::string& address);
  void set(const std::string& name, const std::string& property, const std::string& value);
  void remove(const std::string& name);
  // From the owner of org.banger.Vm: InterfacesAdded, InterfacesRemoved and
  // PropertiesChanged whose arguments do not have the signatures they must have.
  void emitMalformedSignals();
  // Keeps the stand-in from answering anything for `pause`, from now on (a Vm service
  // busy starting up); returns at once.
  void stall(std::chrono::milliseconds pause);

 private:
  template <class F>
  void onLoop(F f) {
    std::promise<void> done;
    loop_.post([&] {
      f();
      done.set_value();
    });
    done.get_future().get();
  }
  std::unique_ptr<sdbus::IConnection> connection_;
  EventLoop loop_;
  std::unique_ptr<StandInManager> manager_;
  std::map<std::string, std::unique_ptr<StandInMachine>> machines_;
  std::thread thread_;
};

}  // namespace banger::test
