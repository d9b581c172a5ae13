#include "banger/worker_pool.h"

#include "banger/errors.h"
#include "banger/log.h"

namespace banger {

WorkerPool::WorkerPool(size_t threads, size_t queueCapacity, std::function<void()> onIdle)
    : capacity_(queueCapacity), onIdle_(std::move(onIdle)) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> task) {
  if (threads_.empty()) fail(ErrorCode::Failed, "this service runs no background work");
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= capacity_) {
      fail(ErrorCode::Busy, "too many operations in progress (" + std::to_string(queue_.size()) +
                                " queued); try again when some have finished");
    }
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

size_t WorkerPool::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + running_;
}

void WorkerPool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      task();
    } catch (const std::exception& e) {
      log::error(std::string("a background task failed: ") + e.what());
    } catch (...) {
      log::error("a background task failed with an unknown exception");
    }
    bool idle;
    {
      std::lock_guard lock(mutex_);
      idle = --running_ == 0 && queue_.empty();
    }
    if (idle && onIdle_) onIdle_();
  }
}

}  // namespace banger
