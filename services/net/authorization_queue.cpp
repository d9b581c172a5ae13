#include "authorization_queue.h"

#include <memory>
#include <string>

namespace banger::net {

AuthorizationQueue::AuthorizationQueue(Authorizer& inner, Limits limits)
    : inner_(inner), limits_(limits) {}

AuthorizationQueue::~AuthorizationQueue() { *alive_ = false; }

void AuthorizationQueue::check(const AuthorizationRequest& request, Done done) {
  size_t& held = heldByUid_[request.uid];
  if (held >= limits_.perUid || waiting_ + outstanding_ >= limits_.capacity) {
    if (held == 0) heldByUid_.erase(request.uid);
    done(Verdict::Busy,
         "too many authorization checks in progress" +
             std::string(held >= limits_.perUid ? " for uid " + std::to_string(request.uid) : "") +
             "; try again shortly");
    return;
  }
  ++held;
  ++waiting_;
  waitingByUid_[request.uid].push_back({request, std::move(done)});
  pump();
}

std::map<uid_t, std::deque<AuthorizationQueue::Pending>>::iterator AuthorizationQueue::nextTurn() {
  auto it = waitingByUid_.upper_bound(lastServed_);
  return it != waitingByUid_.end() ? it : waitingByUid_.begin();
}

void AuthorizationQueue::pump() {
  // An inner authorizer may answer at once (from inside check()); the outer loop then
  // goes on, instead of recursing once per queued call.
  if (pumping_) return;
  pumping_ = true;
  while (outstanding_ < limits_.inFlight && !waitingByUid_.empty()) {
    auto turn = nextTurn();
    const uid_t uid = turn->first;
    Pending next = std::move(turn->second.front());
    turn->second.pop_front();
    if (turn->second.empty()) waitingByUid_.erase(turn);
    lastServed_ = uid;
    --waiting_;
    ++outstanding_;
    inner_.check(next.request, [this, alive = alive_, uid, done = std::move(next.done)](
                                   Verdict verdict, const std::string& why) {
      if (!*alive) return;  // the service is going away; so is the caller's reply
      --outstanding_;
      if (--heldByUid_[uid] == 0) heldByUid_.erase(uid);
      done(verdict, why);
      pump();
    });
  }
  pumping_ = false;
}

}  // namespace banger::net
