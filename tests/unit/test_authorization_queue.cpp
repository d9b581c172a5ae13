// The bounded, per-uid fair queue in front of polkit, against an authorizer whose answers
// the test releases by hand.
#include <gtest/gtest.h>

#include <deque>

#include "authorization_queue.h"

using namespace banger::net;

namespace {

struct HeldAuthorizer final : Authorizer {
  struct Call {
    AuthorizationRequest request;
    Done done;
  };
  std::deque<Call> calls;
  size_t mostOutstanding = 0;
  void check(const AuthorizationRequest& request, Done done) override {
    calls.push_back({request, std::move(done)});
    mostOutstanding = std::max(mostOutstanding, calls.size());
  }
  // Answers the oldest outstanding check; returns whose it was.
  uid_t answerOne(Verdict verdict = Verdict::Allowed) {
    Call call = std::move(calls.front());
    calls.pop_front();
    call.done(verdict, "");
    return call.request.uid;
  }
};

struct Outcomes {
  std::map<uid_t, std::map<Verdict, int>> byUid;
  Authorizer::Done recorder(uid_t uid) {
    return [this, uid](Verdict v, const std::string&) { ++byUid[uid][v]; };
  }
};

AuthorizationRequest from(uid_t uid) { return {uid, ":1.1", "org.banger.Net.manage-leases", {}}; }

TEST(AuthorizationQueue, NeverMoreThanInFlightOutstandingAndEveryCallAnsweredOnce) {
  HeldAuthorizer polkit;
  AuthorizationQueue queue(polkit, {4, 100, 100});
  Outcomes outcomes;
  for (int i = 0; i < 50; ++i) queue.check(from(1000), outcomes.recorder(1000));
  EXPECT_EQ(polkit.calls.size(), 4U);
  while (!polkit.calls.empty()) polkit.answerOne();
  EXPECT_EQ(polkit.mostOutstanding, 4U);
  EXPECT_EQ(outcomes.byUid[1000][Verdict::Allowed], 50);
  EXPECT_EQ(queue.waiting() + queue.outstanding(), 0U);
}

TEST(AuthorizationQueue, OneUidCannotTakeEveryPlaceAndOthersGetTheirTurn) {
  HeldAuthorizer polkit;
  AuthorizationQueue queue(polkit, {2, 64, 8});
  Outcomes outcomes;
  for (int i = 0; i < 2000; ++i) queue.check(from(666), outcomes.recorder(666));
  EXPECT_EQ(outcomes.byUid[666][Verdict::Busy], 2000 - 8) << "beyond its share: Busy at once";
  for (int i = 0; i < 3; ++i) queue.check(from(1000), outcomes.recorder(1000));
  EXPECT_EQ(outcomes.byUid[1000][Verdict::Busy], 0);
  // Turns alternate: the member's three are answered among the flooder's next few.
  std::vector<uid_t> order;
  while (!polkit.calls.empty()) order.push_back(polkit.answerOne(Verdict::Denied));
  const auto lastMember = std::find(order.rbegin(), order.rend(), 1000U);
  EXPECT_LE(std::distance(lastMember, order.rend()), 8) << "the member waited behind the flood";
  EXPECT_EQ(outcomes.byUid[666][Verdict::Denied], 8);
  EXPECT_EQ(outcomes.byUid[1000][Verdict::Denied], 3);
}

TEST(AuthorizationQueue, AFullQueueAnswersBusyNeverDenied) {
  HeldAuthorizer polkit;
  AuthorizationQueue queue(polkit, {1, 6, 2});
  Outcomes outcomes;
  for (uid_t uid = 1000; uid < 1010; ++uid) {
    queue.check(from(uid), outcomes.recorder(uid));
    queue.check(from(uid), outcomes.recorder(uid));
  }
  int busy = 0;
  for (auto& [uid, verdicts] : outcomes.byUid) {
    busy += verdicts[Verdict::Busy];
    EXPECT_EQ(verdicts[Verdict::Denied], 0);
  }
  EXPECT_EQ(busy, 20 - 6);
  while (!polkit.calls.empty()) polkit.answerOne();
  queue.check(from(2000), outcomes.recorder(2000));  // room again
  polkit.answerOne();
  EXPECT_EQ(outcomes.byUid[2000][Verdict::Allowed], 1);
}

TEST(AuthorizationQueue, AnAuthorizerAnsweringAtOnceDrainsTheQueueWithoutRecursing) {
  struct Immediate final : Authorizer {
    int calls = 0;
    void check(const AuthorizationRequest&, Done done) override {
      ++calls;
      done(Verdict::Allowed, "");
    }
  } polkit;
  AuthorizationQueue queue(polkit, {1, 10000, 10000});
  Outcomes outcomes;
  for (int i = 0; i < 5000; ++i) queue.check(from(1), outcomes.recorder(1));
  EXPECT_EQ(polkit.calls, 5000);
  EXPECT_EQ(outcomes.byUid[1][Verdict::Allowed], 5000);
}

}  // namespace
