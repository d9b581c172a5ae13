// A bounded worker pool: at most a fixed number of threads and a bounded queue. Work that
// does not fit is refused (Busy) rather than queued without limit. Threads start when work
// arrives and none is free, and end after `idleExit` without work, so an idle daemon holds
// no worker and none of the stack pages its last burst touched.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace banger {

class WorkerPool {
 public:
  // `onIdle` runs once the pool has gone quiet: on its last thread, after `idleExit`
  // without work and before that thread ends, outside the pool's lock. Not after every
  // task: the daemons give their heap back there, and a heap given back between two calls
  // a second apart (a lease and its release) is faulted in again page by page.
  WorkerPool(size_t maxThreads, size_t queueCapacity, std::function<void()> onIdle = {},
             std::chrono::milliseconds idleExit = std::chrono::seconds(10));
  ~WorkerPool();  // finishes queued work, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Throws banger::Error(Busy) when the queue is full.
  void submit(std::function<void()> task);
  size_t pending() const;
  size_t threads() const;  // alive now

 private:
  void run();
  void joinExited(std::unique_lock<std::mutex>& lock);
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  size_t maxThreads_;
  size_t capacity_;
  std::function<void()> onIdle_;
  std::chrono::milliseconds idleExit_;
  size_t running_ = 0;
  size_t waiting_ = 0;  // threads waiting for work
  bool stopping_ = false;
  std::list<std::thread> threads_;
  std::vector<std::thread> exited_;  // ended idle; joined by the next submit or the end
};

}  // namespace banger
