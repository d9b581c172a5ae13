#include "banger/event_loop.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "banger/errors.h"
#include "banger/log.h"

namespace banger {

EventLoop::EventLoop(sdbus::IConnection& connection) : connections_{&connection} {
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) fail(ErrorCode::Failed, std::string("eventfd: ") + std::strerror(errno));
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  signalFd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

EventLoop::~EventLoop() {
  close(wakeFd_);
  if (signalFd_ >= 0) close(signalFd_);
}

void EventLoop::stop() {
  post([this] { stopping_ = true; });
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(postedMutex_);
    posted_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakeFd_, &one, sizeof one);
}

EventLoop::TimerId EventLoop::addTimer(std::chrono::milliseconds delay,
                                       std::function<void()> callback) {
  const TimerId id = nextTimerId_++;
  timers_.emplace(Clock::now() + delay, std::make_pair(id, std::move(callback)));
  return id;
}

void EventLoop::cancelTimer(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void EventLoop::addFd(int fd, short events, std::function<void(short)> callback) {
  fds_[fd] = {events, std::move(callback)};
}

void EventLoop::removeFd(int fd) { fds_.erase(fd); }

void EventLoop::addConnection(sdbus::IConnection& connection) {
  connections_.push_back(&connection);
}

void EventLoop::drainPosted() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = read(wakeFd_, &count, sizeof count);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(postedMutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::runDueTimers() {
  const auto now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto callback = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    callback();
  }
}

int EventLoop::nextTimeoutMs(int busTimeoutMs) const {
  int timeout = busTimeoutMs;
  if (!timers_.empty()) {
    const auto wait =
        std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first - Clock::now());
    const int ms = wait.count() < 0 ? 0 : static_cast<int>(wait.count());
    timeout = timeout < 0 ? ms : std::min(timeout, ms);
  }
  return timeout;
}

void EventLoop::run() {
  while (!stopping_) {
    auto& fds = pollFds_;  // reused: this runs for every wake-up of a busy server
    fds.clear();
    int busTimeoutMs = -1;
    for (auto* connection : connections_) {
      while (connection->processPendingRequest()) {
      }
      const auto pollData = connection->getEventLoopPollData();
      fds.push_back({pollData.fd, pollData.events, 0});
      const int ms = pollData.getPollTimeout();
      if (ms >= 0 && (busTimeoutMs < 0 || ms < busTimeoutMs)) busTimeoutMs = ms;
    }
    const size_t wake = fds.size();
    fds.push_back({wakeFd_, POLLIN, 0});
    if (signalFd_ >= 0) fds.push_back({signalFd_, POLLIN, 0});
    const size_t firstExtra = fds.size();
    for (const auto& [fd, entry] : fds_) fds.push_back({fd, entry.first, 0});

    const int ready = poll(fds.data(), fds.size(), nextTimeoutMs(busTimeoutMs));
    if (ready < 0 && errno != EINTR) {
      log::error(std::string("poll failed: ") + std::strerror(errno));
      return;
    }
    if (fds[wake].revents != 0) drainPosted();
    if (signalFd_ >= 0 && fds[wake + 1].revents != 0) {
      signalfd_siginfo info;
      [[maybe_unused]] ssize_t n = read(signalFd_, &info, sizeof info);
      log::info("stopping on signal " + std::to_string(info.ssi_signo));
      stopping_ = true;
    }
    for (size_t i = firstExtra; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = fds_.find(fds[i].fd);
      if (it == fds_.end()) continue;
      auto callback = it->second.second;  // a callback may remove its own fd
      callback(fds[i].revents);
    }
    runDueTimers();
  }
}

}  // namespace banger
