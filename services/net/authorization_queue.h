// A bounded, fair queue in front of an Authorizer (polkit). The bus lets a connection
// wait for at most 128 replies at once; without a bound, one user's flood of calls made
// Net's checks fail, and those failures answered other users' calls with denials. Here
// at most `inFlight` checks are outstanding, each uid holds at most `perUid` places,
// uids take turns, and a call that finds no place is answered Busy at once.
// Loop thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <map>

#include "authorizer.h"

namespace banger::net {

class AuthorizationQueue final : public Authorizer {
 public:
  struct Limits {
    size_t inFlight = 16;   // checks outstanding at polkit
    size_t capacity = 256;  // waiting or outstanding, all uids
    size_t perUid = 32;     // waiting or outstanding, one uid
  };
  AuthorizationQueue(Authorizer& inner, Limits limits);
  ~AuthorizationQueue() override;
  void check(const AuthorizationRequest& request, Done done) override;

  size_t waiting() const { return waiting_; }
  size_t outstanding() const { return outstanding_; }

 private:
  struct Pending {
    AuthorizationRequest request;
    Done done;
  };
  void pump();
  // The uid whose turn it is: the next after the last one served, wrapping around.
  std::map<uid_t, std::deque<Pending>>::iterator nextTurn();

  Authorizer& inner_;
  Limits limits_;
  std::map<uid_t, std::deque<Pending>> waitingByUid_;
  std::map<uid_t, size_t> heldByUid_;  // waiting + outstanding
  size_t waiting_ = 0, outstanding_ = 0;
  uid_t lastServed_ = 0;
  bool pumping_ = false;
  // Answers that arrive after this queue is gone (polkit replies at shutdown) find it so.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace banger::net
