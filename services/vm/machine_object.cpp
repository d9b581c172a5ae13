#include "machine_object.h"

#include <signal.h>
#include <string.h>

#include "banger/errors.h"
#include "banger/names.h"

namespace banger::vm {
namespace {

// The properties whose value differs between two records.
std::vector<std::string> changedProperties(const MachineRecord& a, const MachineRecord& b) {
  std::vector<std::string> out;
  const auto check = [&](bool differs, const char* name) {
    if (differs) out.emplace_back(name);
  };
  check(a.state != b.state, "State");
  check(a.image != b.image, "Image");
  check(a.kernel != b.kernel, "Kernel");
  check(a.vcpus != b.vcpus, "VCpus");
  check(a.memoryMib != b.memoryMib, "MemoryMiB");
  check(a.diskBytes != b.diskBytes, "DiskBytes");
  const bool leaseChanged = a.lease != b.lease;
  check(leaseChanged, "Address");
  check(leaseChanged, "Gateway");
  check(leaseChanged, "Mac");
  check(a.nat != b.nat, "Nat");
  check(a.pid != b.pid, "Pid");
  check(a.startedAtUs != b.startedAtUs, "StartedAt");
  check(a.lastError != b.lastError, "LastError");
  return out;
}

}  // namespace

int parseSignal(const std::string& name) {
  std::string bare = name;
  if (bare.rfind("SIG", 0) == 0) bare = bare.substr(3);
  if (!bare.empty() && bare.find_first_not_of("0123456789") == std::string::npos) {
    const int number = std::stoi(bare.substr(0, 3));
    if (number >= 1 && number < NSIG) return number;
  }
  for (int number = 1; number < NSIG; ++number) {
    const char* abbreviation = sigabbrev_np(number);
    if (abbreviation != nullptr && bare == abbreviation) return number;
  }
  fail(ErrorCode::InvalidArgument, "'" + name + "' is not a signal (try TERM, KILL or INT)");
}

MachineObject::MachineObject(sdbus::IConnection& connection, MachineRecord record, CallGuard& guard,
                             MachineActions& actions)
    : PublishedObject(connection, pathFor(record.name)),
      record_(std::move(record)),
      guard_(guard),
      actions_(actions) {
  publish();
}

MachineObject::~MachineObject() { withdraw(); }

sdbus::ObjectPath MachineObject::pathFor(const std::string& name) {
  return childPath(std::string(names::kVmPath) + "/machine", name);
}

void MachineObject::update(const MachineRecord& record) {
  const std::vector<std::string> changed = changedProperties(record_, record);
  record_ = record;
  if (!changed.empty()) propertiesChanged(names::kVmMachine, changed);
}

sdbus::ObjectPath MachineObject::Start() {
  return guard_("Vm1.Machine.Start",
                [&] { return actions_.start(record_.name, callerUid(getObject())); });
}

sdbus::ObjectPath MachineObject::Stop(const VariantMap& options) {
  return guard_("Vm1.Machine.Stop", [&] {
    const Options parsed =
        Options::parse(options, {{"timeout_sec", "u"}, {"force", "b"}}, "options");
    const auto timeout = std::chrono::seconds(parsed.uint32("timeout_sec").value_or(20));
    return actions_.stop(record_.name, timeout, parsed.boolean("force").value_or(false),
                         callerUid(getObject()));
  });
}

sdbus::ObjectPath MachineObject::Restart() {
  return guard_("Vm1.Machine.Restart",
                [&] { return actions_.restart(record_.name, callerUid(getObject())); });
}

void MachineObject::Kill(const std::string& signal) {
  guard_("Vm1.Machine.Kill", [&] { actions_.kill(record_.name, parseSignal(signal)); });
}

sdbus::ObjectPath MachineObject::Delete(const VariantMap& options) {
  return guard_("Vm1.Machine.Delete", [&] {
    Options::parse(options, {{"force", "b"}}, "options");
    return actions_.remove(record_.name, callerUid(getObject()));
  });
}

void MachineObject::Set(sdbus::Result<>&& result, VariantMap settings) {
  guard_.touch();
  actions_.set(std::move(result), record_.name, settings);
}

sdbus::UnixFd MachineObject::OpenConsole() {
  return guard_("Vm1.Machine.OpenConsole", [&] { return actions_.console(record_.name); });
}

void MachineObject::Stats(sdbus::Result<VariantMap>&& result) {
  guard_.touch();
  actions_.stats(std::move(result), record_.name);
}

void MachineObject::Ports(sdbus::Result<MachineActions::PortRows>&& result) {
  guard_.touch();
  actions_.ports(std::move(result), record_.name);
}

void MachineObject::Health(sdbus::Result<bool, std::string>&& result) {
  guard_.touch();
  actions_.health(std::move(result), record_.name);
}

std::tuple<std::string, std::string, uint16_t, std::string, std::string>
MachineObject::SshTarget() {
  return guard_("Vm1.Machine.SshTarget", [&] { return actions_.sshTarget(record_.name); });
}

sdbus::ObjectPath MachineObject::PrepareWorkspace(const std::string& hostPath,
                                                  const VariantMap& options) {
  return guard_("Vm1.Machine.PrepareWorkspace", [&] {
    return actions_.prepareWorkspace(record_.name, hostPath, options, callerUid(getObject()));
  });
}

void MachineObject::ListWorkspaceFiles(sdbus::Result<std::vector<std::string>>&& result,
                                       std::string hostPath, VariantMap options) {
  actions_.listWorkspaceFiles(std::move(result), record_.name, hostPath, options);
}

}  // namespace banger::vm
