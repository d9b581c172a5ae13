// A registry proxy that holds a pull mid-way (tests/support/stalling_proxy.py), and
// incompressible bytes to make a layer big enough to be caught downloading.
#pragma once

#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>

#include "harness.h"

namespace banger::test {

// A registry whose big blobs stop after their first MiB while `hold` exists.
struct StallingProxy {
  explicit StallingProxy(const std::string& upstream, const std::filesystem::path& dir)
      : hold(dir / "hold"), port(freeLoopbackPort()) {
    writeFile(hold, "");
    pid = spawnBackground({"python3", BANGER_SOURCE_DIR "/tests/support/stalling_proxy.py",
                           std::to_string(port), upstream, hold.string()},
                          {}, dir / "proxy.log");
    log = dir / "proxy.log";
    if (!waitFor([&] { return readFile(log).find("ready") != std::string::npos; },
                 std::chrono::seconds(10)))
      throw std::runtime_error("the stalling proxy did not start: " + readFile(log));
  }
  ~StallingProxy() {
    release();
    stop();
  }
  void release() { std::filesystem::remove(hold); }
  void stop() {
    if (pid > 0) stopProcess(pid);
    pid = -1;
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port); }
  std::filesystem::path hold, log;
  uint16_t port;
  pid_t pid = -1;
};

inline std::string noise(std::size_t bytes) {
  std::string out(bytes, '\0');
  std::mt19937_64 random(11);
  for (std::size_t i = 0; i + 8 <= out.size(); i += 8) {
    auto value = random();
    std::memcpy(&out[i], &value, 8);
  }
  return out;
}

}  // namespace banger::test
