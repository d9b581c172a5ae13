// The machine model (DESIGN §3 Vm1.Machine): a state with its transitions, and the record
// the store keeps. No sdbus types here; the bus face reads these.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger::vm {

enum class MachineState { Created, Starting, Running, Stopping, Stopped, Error };

std::string_view machineStateName(MachineState state);  // "created", "starting", ...
std::optional<MachineState> parseMachineState(std::string_view name);

// What a user may ask of a machine in a state. Each throws banger::Error(Busy) naming the
// machine and its state when the answer is no.
void requireStartable(const std::string& name, MachineState state);  // created, stopped, error
void requireResizable(const std::string& name, MachineState state);  // not running or moving
// A machine with a Firecracker process that may be alive.
bool mayBeRunning(MachineState state);

// What Net leased for the machine (AcquireLease's answer).
struct MachineLease {
  std::string tap;
  std::string mac;
  std::string address;
  uint32_t prefixLen = 0;
  std::string gateway;
  std::vector<std::string> nameservers;
  bool operator==(const MachineLease&) const = default;
};

struct MachineRecord {
  std::string name;
  std::string id;  // 16 hex digits: the Net vm_id and the name of its directories
  MachineState state = MachineState::Created;
  std::string image;
  std::string kernel;
  uint32_t vcpus = 0;
  uint32_t memoryMib = 0;
  uint64_t diskBytes = 0;
  bool nat = false;
  std::optional<MachineLease> lease;
  uint32_t cid = 0;  // the guest's vsock CID, unique among this user's machines
  pid_t pid = 0;
  std::string hostBootId;   // the host's boot id when pid was started
  std::string guestBootId;  // the guest agent's, once it answered
  uint64_t createdAtUs = 0;
  uint64_t startedAtUs = 0;
  std::string lastError;
  bool operator==(const MachineRecord&) const = default;

  std::string hostname() const { return name + ".vm"; }
};

// A fresh machine id: 16 random hex digits.
std::string newMachineId();

// Two words and a number, like Docker's and Multipass's names ("brisk-otter-42"): a VM
// name (vm_name.h), random, not one of `taken`.
std::string generateMachineName(const std::vector<std::string>& taken);

}  // namespace banger::vm
