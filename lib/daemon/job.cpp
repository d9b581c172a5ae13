#include "banger/job.h"

#include "banger/errors.h"
#include "banger/log.h"

namespace banger {

std::string_view jobStateName(JobState state) {
  switch (state) {
    case JobState::Running:
      return "running";
    case JobState::Succeeded:
      return "succeeded";
    case JobState::Failed:
      return "failed";
    case JobState::Canceled:
      return "canceled";
  }
  return "failed";
}

struct JobContext::Shared {
  uint32_t id = 0;
  EventLoop* loop = nullptr;
  JobManager* manager = nullptr;
  std::shared_ptr<std::atomic<bool>> managerAlive;
  std::chrono::milliseconds minInterval{100};
  std::atomic<bool> canceled{false};

  std::mutex mutex;  // guards the fields below, written by the worker, read by the loop
  uint64_t completed = 0;
  uint64_t total = 0;
  bool dirty = false;
  bool flushScheduled = false;
  EventLoop::Clock::time_point lastFlush{};
  std::string stage;  // the worker's current stage, to see when it moves to another

  // Runs `fn(manager)` on the loop thread, unless the manager is gone by then.
  void onLoop(std::function<void(JobManager&)> fn) {
    loop->post([alive = managerAlive, m = manager, fn = std::move(fn)] {
      if (*alive) fn(*m);
    });
  }
};

void JobContext::stage(const std::string& stage, const std::string& detail) {
  bool newStage;
  {
    // A new stage starts its byte count afresh: the previous stage's bytes (e.g. the
    // indices read before a download) are not the new stage's, and a progress flush of
    // them still pending must not land after the stage change.
    std::lock_guard lock(shared_->mutex);
    newStage = stage != shared_->stage;
    if (newStage) {
      shared_->stage = stage;
      shared_->completed = shared_->total = 0;
      shared_->dirty = false;
    }
  }
  shared_->onLoop([id = shared_->id, stage, detail, newStage](JobManager& m) {
    m.applyStage(id, stage, detail, newStage);
  });
}

void JobContext::progress(uint64_t completed, uint64_t total) {
  auto& s = *shared_;
  std::lock_guard lock(s.mutex);
  s.completed = completed;
  s.total = total;
  s.dirty = true;
  if (s.flushScheduled) return;
  s.flushScheduled = true;
  const auto due = s.lastFlush + s.minInterval;
  const auto now = EventLoop::Clock::now();
  const auto delay = due > now ? std::chrono::ceil<std::chrono::milliseconds>(due - now)
                               : std::chrono::milliseconds(0);
  s.loop->post([alive = s.managerAlive, m = s.manager, id = s.id, loop = s.loop, delay] {
    if (!*alive) return;
    loop->addTimer(delay, [alive, m, id] {
      if (*alive) m->flushProgress(id);
    });
  });
}

bool JobContext::canceled() const { return shared_->canceled; }
const std::atomic<bool>* JobContext::cancelFlag() const { return &shared_->canceled; }

void JobContext::throwIfCanceled() const {
  if (canceled()) fail(ErrorCode::Canceled, "canceled by request");
}

JobObject::JobObject(sdbus::IConnection& connection, std::string path, Record record,
                     CallGuard& guard, std::shared_ptr<JobContext::Shared> shared)
    : PublishedObject(connection, std::move(path)),
      record_(std::move(record)),
      guard_(guard),
      shared_(std::move(shared)) {
  publish();
}

JobObject::~JobObject() { withdraw(); }

void JobObject::Cancel() {
  guard_("Job1.Cancel", [&] {
    const uid_t caller = callerUid(getObject());
    if (caller != 0 && caller != record_.startedByUid) {
      fail(ErrorCode::AccessDenied,
           "job " + std::to_string(record_.id) +
               " was started by another user; only they or root may cancel it");
    }
    if (record_.state == JobState::Running) shared_->canceled = true;
  });
}

JobManager::JobManager(sdbus::IConnection& connection, EventLoop& loop, WorkerPool& pool,
                       CallGuard& guard, std::string basePath, JobSignals signals, JobTiming timing)
    : connection_(connection),
      loop_(loop),
      pool_(pool),
      guard_(guard),
      basePath_(std::move(basePath)),
      signals_(std::move(signals)),
      timing_(timing),
      alive_(std::make_shared<std::atomic<bool>>(true)) {}

JobManager::~JobManager() { *alive_ = false; }

sdbus::ObjectPath JobManager::start(const std::string& operation, const sdbus::ObjectPath& target,
                                    uint32_t uid, Work work) {
  const uint32_t id = nextId_++;
  const std::string path = basePath_ + "/job/" + std::to_string(id);

  auto shared = std::make_shared<JobContext::Shared>();
  shared->id = id;
  shared->loop = &loop_;
  shared->manager = this;
  shared->managerAlive = alive_;
  shared->minInterval = timing_.minProgressInterval;

  // Queue first: if the pool refuses, nothing has been published.
  pool_.submit([shared, work = std::move(work)] {
    JobContext context(shared);
    JobState state = JobState::Succeeded;
    std::string errorName, errorMessage;
    try {
      work(context);
    } catch (const Error& e) {
      state = e.code() == ErrorCode::Canceled ? JobState::Canceled : JobState::Failed;
      errorName = e.name();
      errorMessage = e.what();
    } catch (const std::exception& e) {
      state = JobState::Failed;
      errorName = banger::errorName(ErrorCode::Failed);
      errorMessage = e.what();
    } catch (...) {
      state = JobState::Failed;
      errorName = banger::errorName(ErrorCode::Failed);
      errorMessage = "unknown error";
    }
    // A job's buffers (a kernel image, a package index) go back to the system with the rest
    // of the heap once the pool is quiet (its idle hook), not here: the next job of a burst
    // (a vm run's create, copy and delete) would fault them in again.
    shared->onLoop([id = shared->id, state, errorName, errorMessage](JobManager& m) {
      m.finish(id, state, errorName, errorMessage);
    });
  });

  JobObject::Record record;
  record.id = id;
  record.operation = operation;
  record.target = target;
  record.startedByUid = uid;
  record.startedAtUs =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  jobs_.emplace(id,
                std::make_unique<JobObject>(connection_, path, std::move(record), guard_, shared));
  if (signals_.jobNew) signals_.jobNew(id, sdbus::ObjectPath(path));
  return sdbus::ObjectPath(path);
}

void JobManager::applyStage(uint32_t id, const std::string& stage, const std::string& detail,
                            bool resetProgress) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  auto& record = it->second->record();
  record.stage = stage;
  record.detail = detail;
  if (resetProgress && (record.completedBytes != 0 || record.totalBytes != 0)) {
    record.completedBytes = 0;
    record.totalBytes = 0;
    record.progress = -1.0;
    it->second->propertiesChanged(org::banger::Job1_adaptor::INTERFACE_NAME,
                                  {"Stage", "Detail", "Progress", "CompletedBytes", "TotalBytes"});
  } else {
    it->second->propertiesChanged(org::banger::Job1_adaptor::INTERFACE_NAME, {"Stage", "Detail"});
  }
  it->second->emitStageChanged(stage, detail);
}

void JobManager::flushProgress(uint32_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  auto& shared = it->second->shared();
  uint64_t completed, total;
  {
    std::lock_guard lock(shared.mutex);
    shared.flushScheduled = false;
    if (!shared.dirty) return;
    shared.dirty = false;
    shared.lastFlush = EventLoop::Clock::now();
    completed = shared.completed;
    total = shared.total;
  }
  auto& record = it->second->record();
  record.completedBytes = completed;
  record.totalBytes = total;
  record.progress =
      total == 0 ? -1.0
                 : static_cast<double>(std::min(completed, total)) / static_cast<double>(total);
  it->second->propertiesChanged(org::banger::Job1_adaptor::INTERFACE_NAME,
                                {"Progress", "CompletedBytes", "TotalBytes"});
}

void JobManager::finish(uint32_t id, JobState state, const std::string& errorName,
                        const std::string& errorMessage) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  flushProgress(id);  // the last progress is published before Finished
  auto& record = it->second->record();
  record.state = state;
  record.errorName = errorName;
  record.errorMessage = errorMessage;
  if (state == JobState::Succeeded && record.totalBytes == 0) record.progress = 1.0;
  it->second->propertiesChanged(org::banger::Job1_adaptor::INTERFACE_NAME,
                                {"State", "ErrorName", "ErrorMessage", "Progress"});
  const std::string stateName(jobStateName(state));
  it->second->emitFinished(stateName, errorName, errorMessage);
  const sdbus::ObjectPath path = it->second->getObjectPath();
  if (signals_.jobRemoved) signals_.jobRemoved(id, path, stateName);
  if (state == JobState::Failed) {
    log::warning("job " + std::to_string(id) + " (" + record.operation +
                 ") failed: " + errorMessage);
  }
  loop_.addTimer(timing_.linger, [this, id, alive = alive_] {
    if (*alive) jobs_.erase(id);
  });
}

}  // namespace banger
