// The Firecracker API client (DESIGN §8, ../shared/firecracker/NOTES.md): v1.16.1 over the
// API Unix socket (stream_http.h), one connection per session. Pre-boot configuration in
// Firecracker's order, then InstanceStart; SendCtrlAltDel to stop; GET / to recognise a running
// instance.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace banger::vm {

struct FirecrackerDrive {
  std::string id;  // [A-Za-z0-9_]
  std::string path;
  bool root = false;
  bool readOnly = false;
};

struct FirecrackerNic {
  std::string tap;
  std::string mac;
};

struct FirecrackerConfig {
  uint32_t vcpus = 1;
  uint32_t memoryMib = 128;
  std::string kernel;  // an ELF vmlinux
  std::string initrd;  // empty: none
  std::string bootArgs;
  std::vector<FirecrackerDrive> drives;  // the root drive first
  std::optional<FirecrackerNic> nic;
  uint32_t vsockCid = 3;
  std::string vsockPath;
  std::string consolePath;  // the serial console's output
  std::string logPath;      // Firecracker's own log
};

class FirecrackerApi {
 public:
  virtual ~FirecrackerApi() = default;
  // Configures a fresh instance and starts it. Throws banger::Error naming the request and
  // Firecracker's fault_message.
  virtual void boot(const std::string& apiSocket, const FirecrackerConfig& config) = 0;
  virtual void sendCtrlAltDel(const std::string& apiSocket) = 0;
  // The instance id and state from GET /, or nullopt when nothing answers on the socket.
  struct Instance {
    std::string id;
    std::string state;  // "Not started", "Running", "Paused"
  };
  virtual std::optional<Instance> describe(const std::string& apiSocket) = 0;
};

class HttpFirecrackerApi final : public FirecrackerApi {
 public:
  void boot(const std::string& apiSocket, const FirecrackerConfig& config) override;
  void sendCtrlAltDel(const std::string& apiSocket) override;
  std::optional<Instance> describe(const std::string& apiSocket) override;
};

}  // namespace banger::vm
