#include "job_watch.h"

#include <poll.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "banger/names.h"
#include "sigint_scope.h"

namespace banger::cli {
namespace {

// SIGINT counted while a job is followed (SigintScope).
std::atomic<int> interrupts{0};
void onInterrupt(int) { ++interrupts; }

struct Snapshot {
  std::string stage, detail, state, errorName, errorMessage;
  std::uint64_t completed = 0, total = 0;
};

Snapshot read(sdbus::IProxy& job) {
  std::map<std::string, sdbus::Variant> props;
  job.callMethod("GetAll")
      .onInterface(names::kProperties)
      .withArguments(std::string(names::kJob))
      .storeResultsTo(props);
  Snapshot s;
  s.stage = props["Stage"].get<std::string>();
  s.detail = props["Detail"].get<std::string>();
  s.state = props["State"].get<std::string>();
  s.errorName = props["ErrorName"].get<std::string>();
  s.errorMessage = props["ErrorMessage"].get<std::string>();
  s.completed = props["CompletedBytes"].get<std::uint64_t>();
  s.total = props["TotalBytes"].get<std::uint64_t>();
  return s;
}

}  // namespace

std::string humanBytes(std::uint64_t bytes) {
  char text[32];
  if (bytes >= (1ull << 30))
    std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  else if (bytes >= (1ull << 20))
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1ull << 20));
  else if (bytes >= 1024)
    std::snprintf(text, sizeof text, "%llu KiB", static_cast<unsigned long long>(bytes / 1024));
  else
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  return text;
}

JobWatcher::JobWatcher(sdbus::IConnection& bus, std::string service, const std::string& root)
    : bus_(bus), service_(std::move(service)) {
  stageSignals_ = bus_.addMatch("type='signal',interface='" + std::string(names::kJob) +
                                    "',member='StageChanged',path_namespace='" + root + "'",
                                [this](sdbus::Message& message) {
                                  std::string stage, detail;
                                  message >> stage >> detail;
                                  stages_[message.getPath()].emplace_back(stage, detail);
                                });
  // Only to end the wait below; the job's properties say how it ended.
  finishedSignals_ =
      bus_.addMatch("type='signal',interface='" + std::string(names::kJob) +
                        "',member='Finished',path_namespace='" + root + "'",
                    [this](sdbus::Message& message) { finished_.insert(message.getPath()); });
}

void JobWatcher::waitForSignals(std::chrono::milliseconds most) {
  if (bus_.processPendingRequest()) return;
  const auto poll = bus_.getEventLoopPollData();
  pollfd fd{poll.fd, poll.events, 0};
  const auto ms = static_cast<int>(
      std::min<std::uint64_t>(static_cast<std::uint64_t>(most.count()), poll.timeout_usec / 1000));
  ::poll(&fd, 1, ms);
}

std::vector<std::pair<std::string, std::string>> JobWatcher::newStages(const std::string& job) {
  while (bus_.processPendingRequest()) {
  }
  auto found = stages_.find(job);
  if (found == stages_.end()) return {};
  auto out = std::move(found->second);
  found->second.clear();
  return out;
}

JobEnd JobWatcher::follow(const sdbus::ObjectPath& job, std::ostream& out, bool terminal,
                          std::chrono::milliseconds limit) {
  using Clock = std::chrono::steady_clock;
  const auto giveUpAt = Clock::now() + limit;
  interrupts = 0;
  const SigintScope counting(onInterrupt);
  auto proxy = sdbus::createProxy(bus_, service_, job);
  finished_.erase(job);  // a job of that path in an earlier run of the service
  JobEnd end;
  std::string shownStage;
  bool cancelAsked = false;
  auto stageStart = Clock::now();
  for (;;) {
    Snapshot s;
    try {
      s = read(*proxy);
    } catch (const sdbus::Error& e) {
      if (terminal) out << "\n";
      return JobEnd{"lost", e.getName(),
                    "the service ended before the job did (" + e.getMessage() + ")",
                    interrupts > 0};
    }
    auto stages = newStages(job);
    if (stages.empty() && s.stage != shownStage) stages.emplace_back(s.stage, s.detail);
    for (const auto& [stage, detail] : stages) {
      if (terminal) out << "\r\033[K";
      out << stage << ": " << detail << "\n" << std::flush;
      shownStage = stage;
      stageStart = Clock::now();
    }
    if (s.state != "running") {
      if (terminal) out << "\r\033[K" << std::flush;
      end.state = s.state;
      end.errorName = s.errorName;
      end.errorMessage = s.errorMessage;
      end.interrupted = interrupts > 0;
      return end;
    }
    // Bytes read in the poll that saw a new stage may still be the old stage's.
    if (terminal && s.total > 0 && stages.empty()) {
      // Each stage counts its bytes from zero: the rate is the stage's average so far.
      const double seconds = std::chrono::duration<double>(Clock::now() - stageStart).count();
      const int percent =
          static_cast<int>(100.0 * static_cast<double>(std::min(s.completed, s.total)) /
                           static_cast<double>(s.total));
      out << "\r\033[K  " << s.stage << "  " << humanBytes(s.completed) << " / "
          << humanBytes(s.total);
      if (seconds >= 0.2)
        out << "  "
            << humanBytes(static_cast<std::uint64_t>(static_cast<double>(s.completed) / seconds))
            << "/s";
      out << "  " << percent << "%" << std::flush;
    }
    if (interrupts > 0 && !cancelAsked) {
      cancelAsked = true;
      if (terminal) out << "\r\033[K";
      out << "canceling (Ctrl-C again to stop waiting)\n" << std::flush;
      try {
        proxy->callMethod("Cancel").onInterface(names::kJob);
      } catch (const sdbus::Error& e) {
        out << "cancel failed: " << e.getMessage() << "\n";
      }
    }
    if (interrupts > 1)
      return JobEnd{"canceled", "", "stopped waiting; the job may still be winding down", true};
    if (limit.count() > 0 && Clock::now() >= giveUpAt)
      return JobEnd{"timeout", "",
                    "stopped waiting after " + std::to_string(limit.count() / 1000) +
                        " s; the job goes on in the service",
                    interrupts > 0};
    // Once per Finished seen: read again at once rather than wait for another message.
    if (finished_.erase(job) == 0) waitForSignals(std::chrono::milliseconds(100));
  }
}

}  // namespace banger::cli
