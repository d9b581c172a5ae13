#include "unit_launcher.h"

#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger::vm {
namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";
constexpr const char* kSystemdPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
using Property = sdbus::Struct<std::string, sdbus::Variant>;
using ExecCommand = sdbus::Struct<std::string, std::vector<std::string>, bool>;
using AuxUnit = sdbus::Struct<std::string, std::vector<Property>>;

}  // namespace

UnitLauncher::UnitLauncher(std::unique_ptr<Launcher> fallback) : fallback_(std::move(fallback)) {}
UnitLauncher::~UnitLauncher() = default;

bool UnitLauncher::managerPresent() {
  std::lock_guard lock(mutex_);
  if (!connection_) connection_ = sdbus::createSessionBusConnection();
  bool present = false;
  sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus")
      ->callMethod("NameHasOwner")
      .onInterface("org.freedesktop.DBus")
      .withArguments(std::string(kSystemd))
      .storeResultsTo(present);
  return present;
}

void UnitLauncher::startUnit(const LaunchRequest& request) {
  const std::vector<Property> properties{
      {"Description", sdbus::Variant("Firecracker of banger's " + request.description)},
      {"ExecStart",
       sdbus::Variant(std::vector<ExecCommand>{{request.argv[0], request.argv, false}})},
      {"StandardOutputFileToAppend", sdbus::Variant(request.logFile)},
      {"StandardErrorFileToAppend", sdbus::Variant(request.logFile)},
      // Gone from systemd once it ends, however it ends: the next start reuses the name.
      {"CollectMode", sdbus::Variant(std::string("inactive-or-failed"))},
  };
  std::lock_guard lock(mutex_);
  auto manager = sdbus::createProxy(*connection_, kSystemd, kSystemdPath);
  const auto start = [&] {
    sdbus::ObjectPath job;
    manager->callMethod("StartTransientUnit")
        .onInterface(kManager)
        .withArguments(request.unitName, std::string("fail"), properties, std::vector<AuxUnit>{})
        .storeResultsTo(job);
  };
  try {
    start();
  } catch (const sdbus::Error& error) {
    if (error.getName() != "org.freedesktop.systemd1.UnitExists") throw;
    // The last Firecracker of this VM ended a moment ago and systemd has not collected its
    // unit yet: forget it and start again. A unit that still runs stays an error.
    try {
      manager->callMethod("ResetFailedUnit").onInterface(kManager).withArguments(request.unitName);
    } catch (const sdbus::Error&) {
    }
    start();
  }
}

std::string UnitLauncher::activeState(const std::string& unit) {
  std::lock_guard lock(mutex_);
  try {
    sdbus::ObjectPath path;
    sdbus::createProxy(*connection_, kSystemd, kSystemdPath)
        ->callMethod("GetUnit")
        .onInterface(kManager)
        .withArguments(unit)
        .storeResultsTo(path);
    return sdbus::createProxy(*connection_, kSystemd, path)
        ->getProperty("ActiveState")
        .onInterface("org.freedesktop.systemd1.Unit")
        .get<std::string>();
  } catch (const sdbus::Error& error) {
    if (error.getName() == "org.freedesktop.systemd1.NoSuchUnit") return "";
    throw;
  }
}

void UnitLauncher::killUnit(const std::string& unit) {
  std::lock_guard lock(mutex_);
  try {
    sdbus::createProxy(*connection_, kSystemd, kSystemdPath)
        ->callMethod("KillUnit")
        .onInterface(kManager)
        .withArguments(unit, std::string("all"), int32_t{SIGKILL});
  } catch (const sdbus::Error& error) {
    log::warning("killing " + unit + ": " + error.getMessage());
  }
}

pid_t UnitLauncher::launch(const LaunchRequest& request) {
  bool present = false;
  try {
    present = managerPresent();
  } catch (const sdbus::Error& error) {
    log::warning("asking the session bus for systemd failed (" + error.getMessage() +
                 "); starting Firecracker detached");
  }
  if (!present) return fallback_->launch(request);
  try {
    startUnit(request);
  } catch (const sdbus::Error& error) {
    fail(ErrorCode::Failed, "systemd could not start " + request.unitName + ": " + error.getName() +
                                ": " + error.getMessage());
  }
  // Ready once the API socket accepts a connection; its owner (SO_PEERCRED) is the
  // unit's Firecracker. The unit's state is a bus call: asked at most every 20 ms.
  awaitApiSocket(
      request, request.argv[0] + " in " + request.unitName,
      [&] {
        const std::string state = activeState(request.unitName);
        return state != "active" && state != "activating";
      },
      std::chrono::milliseconds(20), [&] { killUnit(request.unitName); },
      ", or `journalctl --user -u " + request.unitName + "`");
  const pid_t pid = socketOwner(request.apiSocket);
  if (pid <= 0)
    fail(ErrorCode::Failed, request.argv[0] + " in " + request.unitName +
                                " stopped answering on its API socket " + request.apiSocket +
                                " (log: " + request.logFile + ")");
  return pid;
}

}  // namespace banger::vm
