// Firecracker's process: its command line, the API socket, --config-file and --no-api,
// signals and exit codes (FcExitCode). Both stand-ins are this plus a Backend.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "backend.h"

namespace fcfake {

struct RunOptions {
  std::string apiSock = "/run/firecracker.socket";
  std::string id = "anonymous-instance";
  std::optional<std::string> configFile;
  bool noApi = false;
  std::optional<std::string> logPath;
  std::string level = "Info";
  bool bootTimer = false;
  bool enablePci = false;
  std::size_t maxPayload = 51200;
  // The stand-in's own flags (--fake-*, --sim-*), which real Firecracker does not have.
  std::map<std::string, std::string> extra;
};

// Exit codes of Firecracker v1.16.1 (src/vmm/src/lib.rs FcExitCode).
enum ExitCode : int {
  kExitOk = 0,
  kExitGeneric = 1,
  kExitUnexpected = 2,
  kExitBadConfiguration = 152,
  kExitArgParsing = 153,
};

using BackendFactory = std::function<std::unique_ptr<Backend>(const RunOptions&)>;

// `extraFlags`: the stand-in's own flags that take a value.
int firecrackerMain(int argc, char** argv, const std::set<std::string>& extraFlags,
                    const BackendFactory& makeBackend);

}  // namespace fcfake
