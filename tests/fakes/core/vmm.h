// Firecracker's API semantics over a Backend: routing, ids, the pre-boot/post-boot rules,
// the instance state machine, and the resources Firecracker opens at PUT time (kernel,
// initrd, drive files, the TAP, the vsock socket). Single-threaded: the API server calls
// handle() for one request at a time, as Firecracker's VMM thread does.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "backend.h"
#include "http.h"
#include "spec.h"
#include "vm_config.h"
#include "vsock_mux.h"

namespace fcfake {

struct VmmOptions {
  std::string instanceId = "anonymous-instance";
  bool pciEnabled = false;
  bool bootTimer = false;
};

class Vmm {
 public:
  Vmm(Backend& backend, VmmOptions options, std::function<void(int)> exit);

  HttpResponse handle(const HttpRequest& request);
  // --config-file: every resource, then InstanceStart. Throws ApiError naming the
  // failing resource (Firecracker exits 152 on it).
  void configureFromFile(const std::string& json);

  std::string state() const;
  VmConfig& config() { return config_; }
  void log(const std::string& line);

 private:
  HttpResponse route(const HttpRequest& request, const std::string& resource, const std::string& id,
                     bool hasId);
  Json body(const HttpRequest& request, const std::string& definition);
  void requirePreBoot() const;
  void requirePostBoot() const;
  void requireMicrovm(bool running) const;

  void putBootSource(const Json& body);
  void putDrive(const Json& body);
  void putNetworkInterface(const Json& body, uid_t caller);
  void putVsock(const Json& body);
  void putMachineConfig(const Json& body, bool patch);
  void putLogger(const Json& body);
  void putMetrics(const Json& body);
  void instanceStart();
  Json fullConfig() const;

  Backend& backend_;
  VmmOptions options_;
  std::function<void(int)> exit_;
  VmConfig config_;
  enum class State { NotStarted, Running, Paused } state_ = State::NotStarted;
  bool bootResourceConfigured_ = false;
  bool metricsConfigured_ = false;
  UniqueFd metricsFile_;
  UniqueFd logFile_;
  Json mmds_;  // null until PUT /mmds
  Json mmdsConfig_, balloon_, entropy_, cpuConfig_, memoryHotplug_;
  Json pmem_ = Json::array();
  std::unique_ptr<VsockMuxer> muxer_;
};

// Firecracker's rule for resource ids: alphanumeric or '_' (hyphens refused).
bool validResourceId(const std::string& id);
// Rust's io::Error display: "No such file or directory (os error 2)".
std::string osError(int error);

}  // namespace fcfake
