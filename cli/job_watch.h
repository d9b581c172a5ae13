// Following an org.banger.Job1 from the command line until it ends: a progress line on a
// terminal (stage, bytes, rate), one plain line per stage otherwise. Ctrl-C asks the
// service to cancel the job (Job1.Cancel) and waits for it to wind down; a second Ctrl-C
// stops waiting.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <chrono>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace banger::cli {

struct JobEnd {
  std::string state;  // succeeded | failed | canceled | lost (the service went away)
  std::string errorName;
  std::string errorMessage;
  bool interrupted = false;  // the user pressed Ctrl-C
  bool succeeded() const { return state == "succeeded"; }
};

// Made before the call that starts a job: a stage can pass before the call returns, so
// the StageChanged signals of every job under `root` are collected from the start.
class JobWatcher {
 public:
  JobWatcher(sdbus::IConnection& bus, std::string service, const std::string& root);
  // `limit` > 0: stop waiting after that long (state "timeout"); the job goes on.
  JobEnd follow(const sdbus::ObjectPath& job, std::ostream& out, bool terminal,
                std::chrono::milliseconds limit = std::chrono::milliseconds(0));

 private:
  // Stages of `job` announced since the last call.
  std::vector<std::pair<std::string, std::string>> newStages(const std::string& job);
  // Returns once a signal arrived or `most` passed, whichever is first: a job's end is
  // seen when it is announced, not at the next tick.
  void waitForSignals(std::chrono::milliseconds most);

  sdbus::IConnection& bus_;
  std::string service_;
  sdbus::Slot stageSignals_;
  sdbus::Slot finishedSignals_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> stages_;
  // Jobs whose Finished signal has been seen. sd-bus may read that signal from the socket
  // along with a reply and queue it; once dispatched there, nothing is left to wake the
  // wait, which then slept its whole 100 ms after the job's end.
  std::set<std::string> finished_;
};

// "12.3 MiB", "512 KiB", "17 B".
std::string humanBytes(std::uint64_t bytes);

}  // namespace banger::cli
