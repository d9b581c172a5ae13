// A bounded worker pool: a fixed number of threads and a bounded queue. Work that does
// not fit is refused (Busy) rather than queued without limit.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace banger {

class WorkerPool {
 public:
  // `onIdle` runs on the worker that finished the last task of a burst (nothing queued,
  // nothing running), outside the pool's lock.
  WorkerPool(size_t threads, size_t queueCapacity, std::function<void()> onIdle = {});
  ~WorkerPool();  // finishes queued work, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Throws banger::Error(Busy) when the queue is full.
  void submit(std::function<void()> task);
  size_t pending() const;

 private:
  void run();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  size_t capacity_;
  std::function<void()> onIdle_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace banger
