#include "observe.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "banger/errors.h"
#include "disks.h"
#include "launcher.h"
#include "web_probe.h"

namespace banger::vm {
namespace {

// utime + stime of /proc/<pid>/stat, in seconds; fields after the command's ')'.
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

uint64_t rssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

uint64_t nowUs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void requireRunning(const MachineRecord& record) {
  if (record.state != MachineState::Running && record.state != MachineState::Starting)
    fail(ErrorCode::Busy, "machine " + record.name + " is " +
                              std::string(machineStateName(record.state)) +
                              "; start it first (banger vm start " + record.name + ")");
}

}  // namespace

VariantMap machineStats(const MachineRecord& record, const MachinePaths& paths) {
  const DiskSet disks = disksIn(paths.dir);
  const bool alive = record.pid > 0 && processAlive(record.pid);
  VariantMap out;
  out["state"] = sdbus::Variant(std::string(machineStateName(record.state)));
  out["pid"] = sdbus::Variant(static_cast<uint32_t>(alive ? record.pid : 0));
  out["uptime_sec"] = sdbus::Variant(
      alive && record.startedAtUs ? static_cast<double>(nowUs() - record.startedAtUs) / 1e6 : 0.0);
  out["cpu_time_sec"] = sdbus::Variant(alive ? cpuSeconds(record.pid) : 0.0);
  out["rss_bytes"] = sdbus::Variant(alive ? rssBytes(record.pid) : uint64_t{0});
  out["overlay_disk_bytes"] = sdbus::Variant(allocatedBytes(disks.overlay));
  out["work_disk_bytes"] = sdbus::Variant(allocatedBytes(disks.work));
  out["disk_bytes"] = sdbus::Variant(record.diskBytes);
  return out;
}

std::tuple<bool, std::string> machineHealth(const MachineRecord& record, const MachinePaths& paths,
                                            AgentClient& agent) {
  if (record.state != MachineState::Running && record.state != MachineState::Starting)
    return {false, "machine " + record.name + " is " + std::string(machineStateName(record.state))};
  try {
    const AgentHealth health = agent.health(paths.vsockSocket().string(), true);
    const bool ok = health.status == "ok" && health.systemd != "degraded";
    return {ok, "agent " + health.status + ", systemd " + health.systemd + ", up " +
                    std::to_string(static_cast<long>(health.uptimeSec)) + " s"};
  } catch (const Error& error) {
    return {false, std::string("the agent does not answer: ") + error.what()};
  }
}

std::vector<AgentPort> foldDualStack(std::vector<AgentPort> ports) {
  std::vector<AgentPort> out;
  for (AgentPort& port : ports) {
    const auto twin = std::find_if(out.begin(), out.end(), [&](const AgentPort& seen) {
      return seen.proto == port.proto && seen.port == port.port && seen.pid == port.pid &&
             ((seen.address == "0.0.0.0" && port.address == "::") ||
              (seen.address == "::" && port.address == "0.0.0.0"));
    });
    if (twin != out.end()) {
      twin->address.assign(1, '*');  // not = "*": GCC 12 -O3 warns falsely (-Wrestrict)
      continue;
    }
    out.push_back(std::move(port));
  }
  return out;
}

std::vector<PortRow> machinePorts(const MachineRecord& record, const MachinePaths& paths,
                                  AgentClient& agent) {
  requireRunning(record);
  std::vector<PortRow> rows;
  for (const AgentPort& port : foldDualStack(agent.ports(paths.vsockSocket().string()))) {
    std::string url;
    const bool reachable = port.address == "*" || port.address == "0.0.0.0" ||
                           port.address == "::" ||
                           (record.lease && port.address == record.lease->address);
    if (port.proto == "tcp" && reachable && record.lease) {
      const std::string scheme =
          probeWebScheme(record.lease->address, port.port, std::chrono::milliseconds(1500));
      if (!scheme.empty())
        url = scheme + "://" + record.hostname() + ":" + std::to_string(port.port);
    }
    rows.emplace_back(port.proto, port.address, port.port, port.process, port.pid, url);
  }
  return rows;
}

}  // namespace banger::vm
