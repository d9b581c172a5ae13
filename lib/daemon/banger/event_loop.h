// The single thread that talks to the bus. It polls the sd-bus fd, an eventfd for work
// posted from other threads, any extra fds (sockets) and timers, so every D-Bus call,
// signal and property change happens on this one thread and nothing here ever blocks.
#pragma once

#include <poll.h>
#include <sdbus-c++/IConnection.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace banger {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = uint64_t;

  explicit EventLoop(sdbus::IConnection& connection);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(); handles SIGTERM/SIGINT (blocked by the caller) as stop().
  void run();
  // Thread-safe.
  void stop();
  // Thread-safe: runs `task` on the loop thread.
  void post(std::function<void()> task);

  // Loop thread only.
  TimerId addTimer(std::chrono::milliseconds delay, std::function<void()> callback);
  void cancelTimer(TimerId id);
  void addFd(int fd, short events, std::function<void(short revents)> callback);
  void removeFd(int fd);
  // Another bus connection served by this thread too (banger-dns follows Net on the
  // system bus); it must outlive the loop's run.
  void addConnection(sdbus::IConnection& connection);

 private:
  void drainPosted();
  void runDueTimers();
  int nextTimeoutMs(int busTimeoutMs) const;

  std::vector<sdbus::IConnection*> connections_;  // the first is the service's own
  int wakeFd_ = -1;
  int signalFd_ = -1;
  bool stopping_ = false;
  std::mutex postedMutex_;
  std::vector<std::function<void()>> posted_;
  std::multimap<Clock::time_point, std::pair<TimerId, std::function<void()>>> timers_;
  TimerId nextTimerId_ = 1;
  std::map<int, std::pair<short, std::function<void(short)>>> fds_;
  std::vector<struct pollfd> pollFds_;
};

}  // namespace banger
