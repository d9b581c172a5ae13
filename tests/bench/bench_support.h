// What the benchmarks share: medians, and a job of the Image service timed stage by
// stage as a client sees it (the stages from its StageChanged signals, each with the
// seconds from the call until it began).
#pragma once

#include <sdbus-c++/sdbus-c++.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace banger::bench {

// A field of /proc/<pid>/status in KiB ("VmHWM": the peak resident set).
inline long statusKiB(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return 0;
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

struct StageTimes {
  std::vector<std::pair<std::string, double>> starts;  // stage, seconds from the call
  double total = 0;
  // Seconds from the first time `stage` began to when the next other stage began (or the end).
  double length(const std::string& stage) const {
    for (std::size_t i = 0; i < starts.size(); ++i) {
      if (starts[i].first != stage) continue;
      std::size_t next = i + 1;
      while (next < starts.size() && starts[next].first == stage) ++next;
      return (next < starts.size() ? starts[next].second : total) - starts[i].second;
    }
    return 0;
  }
};

// Calls Image1.Manager.`method`(args...) → (object, job) and waits for the job's end.
template <typename... Args>
StageTimes timeImageJob(sdbus::IConnection& bus, const std::string& method, const Args&... args) {
  using Clock = std::chrono::steady_clock;
  StageTimes times;
  std::mutex mutex;
  const auto start = Clock::now();
  auto slot =
      bus.addMatch("type='signal',interface='org.banger.Job1',member='StageChanged'",
                   [&](sdbus::Message& message) {
                     std::string stage, detail;
                     message >> stage >> detail;
                     std::lock_guard lock(mutex);
                     times.starts.emplace_back(
                         stage, std::chrono::duration<double>(Clock::now() - start).count());
                   });
  bus.enterEventLoopAsync();
  auto manager = sdbus::createProxy(bus, "org.banger.Image", "/org/banger/Image");
  sdbus::ObjectPath object, job;
  manager->callMethod(method)
      .onInterface("org.banger.Image1.Manager")
      .withArguments(args...)
      .storeResultsTo(object, job);
  auto proxy = sdbus::createProxy(bus, "org.banger.Image", job);
  for (;;) {
    const std::string state = proxy->getProperty("State").onInterface("org.banger.Job1");
    if (state == "succeeded") break;
    if (state != "running")
      throw std::runtime_error(
          method + " " + state + ": " +
          proxy->getProperty("ErrorMessage").onInterface("org.banger.Job1").get<std::string>());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  times.total = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  bus.leaveEventLoop();
  std::lock_guard lock(mutex);
  return times;
}

}  // namespace banger::bench
