// org.banger.Job1: one long operation, run on the worker pool and published on the bus.
// State lives on the event-loop thread; the worker reports through JobContext, which
// posts to the loop. Progress is coalesced to at most one PropertiesChanged per
// `minProgressInterval` (10/s by default). A finished job stays on the bus for `linger`.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "banger/bus_object.h"
#include "banger/dbus_call.h"
#include "banger/event_loop.h"
#include "banger/worker_pool.h"
#include "org.banger.Job1_adaptor.h"

namespace banger {

class JobManager;

// Job1.State (DESIGN §3), with its one name table.
enum class JobState { Running, Succeeded, Failed, Canceled };
std::string_view jobStateName(JobState state);  // "running", "succeeded", ...

// What a running job's work function sees, on its worker thread.
class JobContext {
 public:
  struct Shared;
  explicit JobContext(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  void stage(const std::string& stage, const std::string& detail = "");
  // total 0 = unknown size (Progress -1).
  void progress(uint64_t completed, uint64_t total);
  bool canceled() const;
  // The flag itself, for code that polls one (the HTTP client); set once Cancel() was called.
  const std::atomic<bool>* cancelFlag() const;
  // Throws banger::Error(Canceled) once Cancel() was called.
  void throwIfCanceled() const;

 private:
  std::shared_ptr<Shared> shared_;
};

struct JobTiming {
  std::chrono::milliseconds linger{60'000};
  std::chrono::milliseconds minProgressInterval{100};
};

struct JobSignals {
  std::function<void(uint32_t id, const sdbus::ObjectPath& path)> jobNew;
  std::function<void(uint32_t id, const sdbus::ObjectPath& path, const std::string& state)>
      jobRemoved;
};

// The JobNew/JobRemoved signals of a manager adaptor generated from the contract.
template <class Manager>
JobSignals managerJobSignals(Manager& manager) {
  return {[&manager](uint32_t id, const sdbus::ObjectPath& path) { manager.emitJobNew(id, path); },
          [&manager](uint32_t id, const sdbus::ObjectPath& path, const std::string& state) {
            manager.emitJobRemoved(id, path, state);
          }};
}

class JobObject final : public PublishedObject<org::banger::Job1_adaptor> {
 public:
  struct Record {
    uint32_t id = 0;
    std::string operation;
    sdbus::ObjectPath target;
    std::string stage;
    std::string detail;
    double progress = -1;
    uint64_t completedBytes = 0;
    uint64_t totalBytes = 0;
    JobState state = JobState::Running;
    std::string errorName;
    std::string errorMessage;
    uint32_t startedByUid = 0;
    uint64_t startedAtUs = 0;
  };

  JobObject(sdbus::IConnection& connection, std::string path, Record record, CallGuard& guard,
            std::shared_ptr<JobContext::Shared> shared);
  ~JobObject();

  Record& record() { return record_; }
  JobContext::Shared& shared() { return *shared_; }

 private:
  void Cancel() override;
  uint32_t Id() override { return record_.id; }
  std::string Operation() override { return record_.operation; }
  sdbus::ObjectPath Target() override { return record_.target; }
  std::string Stage() override { return record_.stage; }
  std::string Detail() override { return record_.detail; }
  double Progress() override { return record_.progress; }
  uint64_t CompletedBytes() override { return record_.completedBytes; }
  uint64_t TotalBytes() override { return record_.totalBytes; }
  std::string State() override { return std::string(jobStateName(record_.state)); }
  std::string ErrorName() override { return record_.errorName; }
  std::string ErrorMessage() override { return record_.errorMessage; }
  uint32_t StartedByUid() override { return record_.startedByUid; }
  uint64_t StartedAt() override { return record_.startedAtUs; }

  Record record_;
  CallGuard& guard_;
  std::shared_ptr<JobContext::Shared> shared_;
};

class JobManager {
 public:
  using Work = std::function<void(JobContext&)>;

  JobManager(sdbus::IConnection& connection, EventLoop& loop, WorkerPool& pool, CallGuard& guard,
             std::string basePath, JobSignals signals, JobTiming timing = {});
  ~JobManager();

  // Loop thread. Publishes the job, emits JobNew, queues `work`. Throws Busy if the pool
  // is full (then nothing is published).
  sdbus::ObjectPath start(const std::string& operation, const sdbus::ObjectPath& target,
                          uint32_t uid, Work work);
  // Jobs running or still lingering; a service with any is not idle.
  size_t count() const { return jobs_.size(); }
  // Withdraws every job at once (InterfacesRemoved each). The owner calls it on its way
  // out, before it unregisters its ObjectManager: sd-bus sends InterfacesRemoved only
  // through one, and refuses with ESRCH once it is gone.
  void withdrawAll() { jobs_.clear(); }

 private:
  friend class JobContext;
  void flushProgress(uint32_t id);
  // `resetProgress`: the job moved to another stage, whose byte count starts afresh.
  void applyStage(uint32_t id, const std::string& stage, const std::string& detail,
                  bool resetProgress);
  void finish(uint32_t id, JobState state, const std::string& errorName,
              const std::string& errorMessage);

  sdbus::IConnection& connection_;
  EventLoop& loop_;
  WorkerPool& pool_;
  CallGuard& guard_;
  std::string basePath_;
  JobSignals signals_;
  JobTiming timing_;
  uint32_t nextId_ = 1;
  std::map<uint32_t, std::unique_ptr<JobObject>> jobs_;
  std::shared_ptr<std::atomic<bool>> alive_;
};

}  // namespace banger
