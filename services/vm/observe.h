// What Stats, Health and Ports answer about a machine (DESIGN §3 Vm1.Machine): read from
// /proc for its Firecracker, from the disks' allocation, and from the guest agent. Run on
// a worker: the agent and the port probes may take a moment.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "agent_client.h"
#include "banger/options.h"
#include "lifecycle.h"

namespace banger::vm {

// state, pid, uptime_sec, cpu_time_sec, rss_bytes, overlay_disk_bytes, work_disk_bytes,
// disk_bytes (docs/vm.md).
VariantMap machineStats(const MachineRecord& record, const MachinePaths& paths);

std::tuple<bool, std::string> machineHealth(const MachineRecord& record, const MachinePaths& paths,
                                            AgentClient& agent);

using PortRow =
    sdbus::Struct<std::string, std::string, uint16_t, std::string, uint32_t, std::string>;

// The agent's listening sockets, a port bound on both 0.0.0.0 and :: once (address "*"),
// each TCP port probed over HTTPS, then HTTP, for its url (http(s)://NAME.vm:PORT).
std::vector<PortRow> machinePorts(const MachineRecord& record, const MachinePaths& paths,
                                  AgentClient& agent);

// The agent's ports with dual-stack twins folded (same protocol, port and process, one on
// 0.0.0.0 and one on ::) into one entry with address "*".
std::vector<AgentPort> foldDualStack(std::vector<AgentPort> ports);

}  // namespace banger::vm
