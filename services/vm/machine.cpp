#include "machine.h"

#include <algorithm>
#include <array>
#include <random>

#include "banger/errors.h"

namespace banger::vm {
namespace {

constexpr std::array<std::pair<MachineState, std::string_view>, 6> kStateNames{{
    {MachineState::Created, "created"},
    {MachineState::Starting, "starting"},
    {MachineState::Running, "running"},
    {MachineState::Stopping, "stopping"},
    {MachineState::Stopped, "stopped"},
    {MachineState::Error, "error"},
}};

constexpr std::array<std::string_view, 24> kAdjectives{
    "brisk", "calm",  "clever", "dapper", "eager",  "fancy",  "gentle", "happy",
    "jolly", "keen",  "lively", "lucky",  "mellow", "nimble", "plucky", "proud",
    "quick", "quiet", "rapid",  "shiny",  "snappy", "sunny",  "swift",  "witty"};
constexpr std::array<std::string_view, 24> kAnimals{
    "badger", "beaver", "bison", "crane",  "dingo", "falcon", "ferret", "gecko",
    "heron",  "ibex",   "koala", "lemur",  "lynx",  "marten", "moose",  "narwhal",
    "ocelot", "otter",  "panda", "puffin", "quail", "raven",  "tapir",  "walrus"};

std::mt19937_64& random() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

}  // namespace

std::string_view machineStateName(MachineState state) {
  for (const auto& [value, name] : kStateNames)
    if (value == state) return name;
  return "error";
}

std::optional<MachineState> parseMachineState(std::string_view name) {
  for (const auto& [value, text] : kStateNames)
    if (text == name) return value;
  return std::nullopt;
}

void requireStartable(const std::string& name, MachineState state) {
  if (state == MachineState::Created || state == MachineState::Stopped ||
      state == MachineState::Error)
    return;
  fail(ErrorCode::Busy, "machine " + name + " is " + std::string(machineStateName(state)) +
                            "; it can start only "
                            "when created, stopped or failed");
}

void requireResizable(const std::string& name, MachineState state) {
  if (!mayBeRunning(state)) return;
  fail(ErrorCode::Busy, "machine " + name + " is " + std::string(machineStateName(state)) +
                            "; vcpus, memory and disk size change only while it is stopped "
                            "(banger vm stop " +
                            name + ")");
}

bool mayBeRunning(MachineState state) {
  return state == MachineState::Starting || state == MachineState::Running ||
         state == MachineState::Stopping;
}

std::string newMachineId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  std::uint64_t bits = random()();
  for (char& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

std::string generateMachineName(const std::vector<std::string>& taken) {
  std::uniform_int_distribution<size_t> adjective(0, kAdjectives.size() - 1);
  std::uniform_int_distribution<size_t> animal(0, kAnimals.size() - 1);
  std::uniform_int_distribution<int> number(1, 99);
  for (int attempt = 0;; ++attempt) {
    std::string name = std::string(kAdjectives[adjective(random())]) + "-" +
                       std::string(kAnimals[animal(random())]);
    // 576 pairs; past a few collisions a number keeps names unique without growing long.
    if (attempt >= 8) {
      name += '-';
      name += std::to_string(number(random()) + attempt);
    }
    if (std::find(taken.begin(), taken.end(), name) == taken.end()) return name;
  }
}

}  // namespace banger::vm
