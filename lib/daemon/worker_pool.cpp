#include "banger/worker_pool.h"

#include <algorithm>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger {

WorkerPool::WorkerPool(size_t maxThreads, size_t queueCapacity, std::function<void()> onIdle,
                       std::chrono::milliseconds idleExit)
    : maxThreads_(maxThreads),
      capacity_(queueCapacity),
      onIdle_(std::move(onIdle)),
      idleExit_(idleExit) {}

WorkerPool::~WorkerPool() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
  // Threads move themselves from threads_ to exited_ as they end, and notify.
  while (!threads_.empty() || !exited_.empty()) {
    joinExited(lock);
    wake_.wait(lock, [this] { return threads_.empty() || !exited_.empty(); });
  }
}

void WorkerPool::joinExited(std::unique_lock<std::mutex>& lock) {
  std::vector<std::thread> ended = std::move(exited_);
  exited_.clear();
  lock.unlock();
  for (std::thread& thread : ended) thread.join();
  lock.lock();
}

void WorkerPool::submit(std::function<void()> task) {
  if (maxThreads_ == 0) fail(ErrorCode::Failed, "this service runs no background work");
  std::unique_lock lock(mutex_);
  if (queue_.size() >= capacity_) {
    fail(ErrorCode::Busy, "too many operations in progress (" + std::to_string(queue_.size()) +
                              " queued); try again when some have finished");
  }
  queue_.push_back(std::move(task));
  if (waiting_ < queue_.size() && threads_.size() < maxThreads_)
    threads_.emplace_back([this] { run(); });
  wake_.notify_one();
  if (!exited_.empty()) joinExited(lock);
}

size_t WorkerPool::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + running_;
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void WorkerPool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      wake_.wait_for(lock, idleExit_, [this] { return stopping_ || !queue_.empty(); });
      --waiting_;
      if (queue_.empty() && threads_.size() == 1 && !stopping_ && onIdle_) {
        // The pool has gone quiet: its last thread runs the hook, still counted as alive,
        // so no submit and no destructor joins it meanwhile; work that came meanwhile is
        // taken below.
        lock.unlock();
        onIdle_();
        lock.lock();
      }
      if (queue_.empty()) {
        // Idle for idleExit_, or the pool is ending: this thread goes.
        const auto self = std::find_if(threads_.begin(), threads_.end(), [](const std::thread& t) {
          return t.get_id() == std::this_thread::get_id();
        });
        exited_.push_back(std::move(*self));
        threads_.erase(self);
        wake_.notify_all();  // the destructor may be waiting for this
        return;
      }
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
    std::lock_guard lock(mutex_);
    --running_;
  }
}

}  // namespace banger
