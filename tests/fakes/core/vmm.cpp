#include "vmm.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace fcfake {

namespace {

constexpr const char* kVersion = "1.16.1";
constexpr const char* kPostBoot =
    "The requested operation is not supported after starting the microVM.";
constexpr const char* kPreBoot =
    "The requested operation is not supported before starting the microVM.";

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at < path.size() && path[at] == '/') ++at;
  while (at < path.size()) {
    std::size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  return parts;
}

std::string checkedId(const std::string& id) {
  if (id.empty()) throw RequestError("The ID cannot be empty.");
  if (!validResourceId(id))
    throw RequestError(
        "API Resource IDs can only contain alphanumeric characters and underscores.");
  return id;
}

HttpResponse ok() { return {204, "", false}; }
HttpResponse okJson(const Json& value) { return {200, value.dump(), false}; }

}  // namespace

bool validResourceId(const std::string& id) {
  if (id.empty()) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '_') return false;
  return true;
}

std::string osError(int error) {
  std::string text = std::strerror(error);
  return text + " (os error " + std::to_string(error) + ")";
}

Vmm::Vmm(Backend& backend, VmmOptions options, std::function<void(int)> exit)
    : backend_(backend), options_(std::move(options)), exit_(std::move(exit)) {
  config_.instanceId = options_.instanceId;
  config_.bootTimer = options_.bootTimer;
}

std::string Vmm::state() const {
  switch (state_) {
    case State::NotStarted:
      return "Not started";
    case State::Running:
      return "Running";
    case State::Paused:
      return "Paused";
  }
  return "Not started";
}

void Vmm::log(const std::string& line) {
  if (!logFile_) return;
  const std::string text = "[" + config_.instanceId + ":fc_api] " + line + "\n";
  [[maybe_unused]] ssize_t n = write(logFile_.get(), text.data(), text.size());
}

Json Vmm::body(const HttpRequest& request, const std::string& definition) {
  try {
    return Spec::v1_16_1().parse(definition, *request.body);
  } catch (const BodyError& error) {
    throw RequestError(
        std::string("An error occurred when deserializing the json body of a request: ") +
        error.what() + ".");
  }
}

void Vmm::requirePreBoot() const {
  if (state_ != State::NotStarted) throw ApiError(kPostBoot);
}
void Vmm::requirePostBoot() const {
  if (state_ == State::NotStarted) throw ApiError(kPreBoot);
}

HttpResponse Vmm::handle(const HttpRequest& request) {
  std::vector<std::string> parts = splitPath(request.path);
  const std::string resource = parts.empty() ? "" : parts[0];
  const bool hasId = parts.size() > 1;
  const std::string id = hasId ? parts[1] : "";
  log("The API server received a " + request.method + " request on \"" + request.path + "\".");
  try {
    return route(request, resource, id, hasId);
  } catch (const RequestError& error) {
    return faultResponse(400, error.what());
  } catch (const ApiError& error) {
    log(std::string("Received Error. Status code: 400 Bad Request. Message: ") + error.what());
    return faultResponse(400, error.what());
  }
}

HttpResponse Vmm::route(const HttpRequest& request, const std::string& resource,
                        const std::string& id, bool hasId) {
  const std::string& method = request.method;
  const bool hasBody = request.body.has_value();
  const auto invalid = [&] {
    return faultResponse(
        400, "Invalid request method and/or path: " + method + " " + request.path + ".");
  };
  if (method == "GET") {
    if (hasBody) throw RequestError("GET request cannot have a body.");
    if (resource.empty())
      return okJson({{"id", config_.instanceId},
                     {"state", state()},
                     {"vmm_version", kVersion},
                     {"app_name", "Firecracker"}});
    if (resource == "version") return okJson({{"firecracker_version", kVersion}});
    if (resource == "machine-config") {
      const MachineConfig& m = config_.machine;
      return okJson({{"vcpu_count", m.vcpuCount},
                     {"mem_size_mib", m.memSizeMib},
                     {"smt", m.smt},
                     {"track_dirty_pages", m.trackDirtyPages},
                     {"huge_pages", m.hugePages}});
    }
    if (resource == "vm" && id == "config") return okJson(fullConfig());
    if (resource == "mmds") {
      if (mmds_.is_null() && state_ != State::NotStarted)
        throw ApiError("MMDS error: The MMDS data store is not initialized.");
      return okJson(mmds_.is_null() ? Json::object() : mmds_);
    }
    if (resource == "balloon") {
      if (id == "statistics" || id == "hinting") requirePostBoot();
      if (balloon_.is_null()) throw ApiError("Balloon config error: No balloon device found.");
      return okJson(balloon_);
    }
    if (resource == "hotplug" && id == "memory") {
      requirePostBoot();
      throw ApiError("Memory hotplug update error: The memory hotplug device is not configured.");
    }
    return invalid();
  }
  if (method == "PUT" || method == "PATCH") {
    if (!hasBody && method == "PATCH" && request.path == "/balloon/hinting/stop") {
      requirePostBoot();
      throw ApiError(
          "Balloon update error: Cannot update the balloon device: No balloon "
          "device found.");
    }
    if (!hasBody)
      throw RequestError(method == "PUT" ? "Empty PUT request." : "Empty PATCH request.");
    const bool put = method == "PUT";
    if (put && resource == "actions") {
      const Json action = body(request, "InstanceActionInfo");
      const std::string type = action["action_type"].get<std::string>();
      if (type == "InstanceStart") {
        instanceStart();
      } else if (type == "SendCtrlAltDel") {
        requirePostBoot();
        backend_.sendCtrlAltDel();
      } else {
        requirePostBoot();
        if (metricsFile_) {
          const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
          const std::string line = "{\"utc_timestamp_ms\":" + std::to_string(now) + "}\n";
          [[maybe_unused]] ssize_t n = write(metricsFile_.get(), line.data(), line.size());
        }
      }
      return ok();
    }
    if (put && resource == "boot-source") return putBootSource(body(request, "BootSource")), ok();
    if (resource == "drives") {
      const std::string driveId = checkedId(hasId ? id : "");
      const Json drive = body(request, put ? "Drive" : "PartialDrive");
      if (drive["drive_id"].get<std::string>() != driveId)
        throw RequestError("The id from the path does not match the id from the body!");
      if (!put) {
        requirePostBoot();
        throw ApiError(
            "Drive config error: Unable to patch the block device: the stand-in "
            "cannot change a running guest's disk. Please verify the request "
            "arguments.");
      }
      if (state_ != State::NotStarted) {
        if (!options_.pciEnabled) throw ApiError("PCI is not enabled");
        throw ApiError(
            "The requested operation is not supported: device hotplug in the "
            "Firecracker stand-in");
      }
      return putDrive(drive), ok();
    }
    if (resource == "network-interfaces") {
      const std::string ifaceId = checkedId(hasId ? id : "");
      const Json iface = body(request, put ? "NetworkInterface" : "PartialNetworkInterface");
      if (iface["iface_id"].get<std::string>() != ifaceId)
        throw RequestError("The id from the path does not match the id from the body!");
      if (!put) {
        requirePostBoot();
        for (const auto& configured : config_.networkInterfaces)
          if (configured.id == ifaceId) return ok();  // rate limiters: nothing to emulate
        throw ApiError("Network config error: Unable to update the net device: Device not found");
      }
      if (state_ != State::NotStarted) {
        if (!options_.pciEnabled) throw ApiError("PCI is not enabled");
        throw ApiError(
            "The requested operation is not supported: device hotplug in the "
            "Firecracker stand-in");
      }
      return putNetworkInterface(iface, request.peerUid), ok();
    }
    if (put && resource == "vsock") {
      const Json vsock = body(request, "Vsock");
      putVsock(vsock);
      HttpResponse response = ok();
      response.deprecation = vsock.contains("vsock_id");
      return response;
    }
    if (resource == "machine-config") {
      // PATCH takes any subset of the fields: validate it with the current values filled in.
      Json machine =
          put ? body(request, "MachineConfiguration") : Json::parse(*request.body, nullptr, false);
      if (!put) {
        HttpRequest filled = request;
        Json withDefaults = machine.is_object() ? machine : Json();
        if (machine.is_object()) {
          if (!withDefaults.contains("vcpu_count"))
            withDefaults["vcpu_count"] = config_.machine.vcpuCount;
          if (!withDefaults.contains("mem_size_mib"))
            withDefaults["mem_size_mib"] = config_.machine.memSizeMib;
          filled.body = withDefaults.dump();
        }
        body(filled, "MachineConfiguration");
      }
      return putMachineConfig(machine, !put), ok();
    }
    if (put && resource == "logger") return putLogger(body(request, "Logger")), ok();
    if (put && resource == "metrics") return putMetrics(body(request, "Metrics")), ok();
    if (put && resource == "serial") {
      const Json serial = body(request, "SerialDevice");
      requirePreBoot();
      if (serial.contains("serial_out_path") && serial["serial_out_path"].is_string())
        config_.serialOutPath = serial["serial_out_path"].get<std::string>();
      return ok();
    }
    if (put && resource == "entropy") {
      entropy_ = body(request, "EntropyDevice");
      requirePreBoot();
      bootResourceConfigured_ = true;
      return ok();
    }
    if (resource == "mmds") {
      if (hasId) {
        if (put && id == "config") {
          const Json mmdsConfig = body(request, "MmdsConfig");
          requirePreBoot();
          if (mmdsConfig["network_interfaces"].empty())
            throw ApiError(
                "MMMDS config error: The list of network interface IDs that allow forwarding "
                "MMDS requests is empty.");
          for (const auto& iface : mmdsConfig["network_interfaces"]) {
            bool found = false;
            for (const auto& configured : config_.networkInterfaces)
              found = found || configured.id == iface.get<std::string>();
            if (!found)
              throw ApiError(
                  "MMMDS config error: The list of network interface IDs provided contains at "
                  "least one ID that does not correspond to any existing network interface.");
          }
          mmdsConfig_ = mmdsConfig;
          bootResourceConfigured_ = true;
          return ok();
        }
        return invalid();
      }
      const Json data = body(request, "MmdsContentsObject");
      // Before boot a data store is made on first use; after boot only one made before.
      if (state_ != State::NotStarted && mmds_.is_null())
        throw ApiError("MMDS error: The MMDS data store is not initialized.");
      if (put || mmds_.is_null())
        mmds_ = data;
      else
        mmds_.merge_patch(data);
      return ok();
    }
    if (resource == "balloon") {
      if (put && !hasId) {
        balloon_ = body(request, "Balloon");
        requirePreBoot();
        bootResourceConfigured_ = true;
        return ok();
      }
      const std::string definition = !hasId               ? "BalloonUpdate"
                                     : id == "statistics" ? "BalloonStatsUpdate"
                                     : request.path == "/balloon/hinting/start" ? "BalloonStartCmd"
                                                                                : "";
      if (definition.empty() || put) return invalid();
      body(request, definition);
      requirePostBoot();
      if (balloon_.is_null())
        throw ApiError(
            "Balloon update error: Cannot update the balloon device: No balloon "
            "device found.");
      return ok();
    }
    if (put && resource == "cpu-config") {
      cpuConfig_ = body(request, "CpuConfig");
      requirePreBoot();
      return ok();
    }
    if (resource == "pmem") {
      const std::string pmemId = checkedId(hasId ? id : "");
      const Json pmem = body(request, put ? "Pmem" : "PartialPmem");
      if (pmem["id"].get<std::string>() != pmemId)
        throw RequestError("The id from the path does not match the id from the body!");
      if (put) {
        if (state_ != State::NotStarted) {
          if (!options_.pciEnabled) throw ApiError("PCI is not enabled");
          throw ApiError(
              "The requested operation is not supported: device hotplug in the "
              "Firecracker stand-in");
        }
        UniqueFd file(open(pmem["path_on_host"].get<std::string>().c_str(), O_RDONLY | O_CLOEXEC));
        if (!file)
          throw ApiError("Pmem config error: Error accessing backing file: " + osError(errno));
        pmem_.push_back(pmem);
        bootResourceConfigured_ = true;
      } else {
        requirePostBoot();
        throw ApiError(
            "The requested operation is not supported: pmem updates in the "
            "Firecracker stand-in");
      }
      return ok();
    }
    if (resource == "hotplug" && id == "memory") {
      const Json config = body(request, put ? "MemoryHotplugConfig" : "MemoryHotplugSizeUpdate");
      if (put) {
        requirePreBoot();
        memoryHotplug_ = config;
        bootResourceConfigured_ = true;
      } else {
        requirePostBoot();
        throw ApiError(
            "Memory hotplug update error: The memory hotplug device is not "
            "configured.");
      }
      return ok();
    }
    if (!put && resource == "vm") {
      const std::string wanted = body(request, "Vm")["state"].get<std::string>();
      requirePostBoot();
      backend_.setPaused(wanted == "Paused");
      state_ = wanted == "Paused" ? State::Paused : State::Running;
      return ok();
    }
    if (put && resource == "snapshot" && (id == "create" || id == "load")) {
      const bool create = id == "create";
      const Json params = body(request, create ? "SnapshotCreateParams" : "SnapshotLoadParams");
      if (create) {
        requirePostBoot();
        if (state_ != State::Paused)
          throw ApiError(
              "Create snapshot error: Cannot save the microVM state: the microVM "
              "must be paused.");
      } else {
        if (params.contains("mem_backend") == params.contains("mem_file_path"))
          throw RequestError(
              params.contains("mem_backend")
                  ? "An error occurred when deserializing the json body of a request: too many "
                    "fields: either `mem_backend` or `mem_file_path` exclusively is required."
                  : "An error occurred when deserializing the json body of a request: missing "
                    "field: either `mem_backend` or `mem_file_path` is required.");
        requirePreBoot();
        if (bootResourceConfigured_)
          throw ApiError(
              "Load snapshot error: Loading a microVM snapshot not allowed after "
              "configuring boot-specific resources.");
      }
      throw ApiError(
          "The requested operation is not supported: snapshots in the Firecracker "
          "stand-in");
    }
    return invalid();
  }
  if (method == "DELETE") {
    if (hasBody) throw RequestError("Empty Delete request.");
    if ((resource == "drives" || resource == "network-interfaces" || resource == "pmem") && hasId) {
      checkedId(id);
      requirePostBoot();
      if (!options_.pciEnabled) throw ApiError("PCI is not enabled");
      throw ApiError(
          "The requested operation is not supported: device hot-unplug in the "
          "Firecracker stand-in");
    }
    return invalid();
  }
  return invalid();
}

}  // namespace fcfake
