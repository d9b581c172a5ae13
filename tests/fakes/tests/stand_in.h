// A stand-in Firecracker (firecracker-fake or firecracker-sim) started for one test, and
// requests to its API socket through banger's own HTTP client.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "banger/http.h"

namespace fcfake::test {

struct ApiAnswer {
  long status = 0;
  std::string body;
  std::string fault() const;  // fault_message, or "" when there is none
};

class StandIn {
 public:
  // Starts `binary --api-sock <dir>/api.sock --id <id> extra...` (<dir> made if missing),
  // its stdout and stderr
  // in <dir>/console.out and <dir>/stderr.out, and waits until the socket accepts a
  // connection (or the process has ended).
  // `launcher` runs first, with the stand-in's command line after it (e.g. ip netns exec).
  StandIn(const std::string& binary, const std::filesystem::path& dir,
          std::vector<std::string> extra = {}, const std::string& id = "test-vm",
          std::vector<std::string> launcher = {});
  ~StandIn();
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;

  ApiAnswer call(const std::string& method, const std::string& path,
                 const std::optional<std::string>& body = std::nullopt) const;
  // The same request from a process running as `uid` (as the user's Vm service calls a
  // root simulator); the socket must be reachable by that uid.
  ApiAnswer callAs(uid_t uid, const std::string& method, const std::string& path,
                   const std::string& body) const;
  // Waits for the process to end; its exit status (128+n for a signal), or nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill(int signal);
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string apiSock() const { return (dir_ / "api.sock").string(); }
  std::string console() const;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// A connected AF_UNIX stream socket to `path`, its receives timing out after
// `receiveTimeout`; -1 when nobody listens there.
int connectUnix(const std::string& path, std::chrono::seconds receiveTimeout);
// A listening AF_UNIX stream socket at `path`, or -1.
int listenUnix(const std::string& path);
// Firecracker's host side of vsock: "CONNECT <port>\n" on the VM's `udsPath`, then
// `message`; everything that came back (the "OK <port>\n" line, then the answer to
// `message` up to its length), "" when nothing answered.
std::string vsockExchange(const std::string& udsPath, unsigned port, const std::string& message,
                          std::chrono::seconds receiveTimeout);

// A file that starts with the ELF magic: enough for the stand-ins' kernel check.
std::filesystem::path writeFakeKernel(const std::filesystem::path& dir);

}  // namespace fcfake::test
