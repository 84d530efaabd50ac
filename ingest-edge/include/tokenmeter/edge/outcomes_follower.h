// OutcomesFollower: the distributed form's hand-over of record outcomes from the
// processors to an edge that answers once its events are applied. It reads the outcomes
// topic (key = the events partition, value = EncodeAppliedRecords) from its end and
// feeds the edge's RecordOutcomes. A record it cannot read is logged and skipped (the
// answers it would have completed say pending).
//
// Threads: Start() spawns the follow thread; Stop() from the owner. `outcomes` must
// outlive the follower.
#ifndef TOKENMETER_EDGE_OUTCOMES_FOLLOWER_H_
#define TOKENMETER_EDGE_OUTCOMES_FOLLOWER_H_

#include <atomic>
#include <memory>
#include <thread>

#include "tokenmeter/bus/record_outcomes.h"
#include "tokenmeter/bus/subscriber.h"

namespace tokenmeter {

class OutcomesFollower {
 public:
  OutcomesFollower(std::unique_ptr<Subscriber> subscriber, RecordOutcomes& outcomes)
      : subscriber_(std::move(subscriber)), outcomes_(outcomes) {}
  ~OutcomesFollower() { Stop(); }
  void Start();
  void Stop();
  // True once the topic's partitions are assigned to it (before, outcomes are missed and
  // answers would say pending: the edge is not ready). Any thread.
  bool Following() const { return following_.load(); }

 private:
  void Run();
  std::unique_ptr<Subscriber> subscriber_;
  RecordOutcomes& outcomes_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> following_{false};
};

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_OUTCOMES_FOLLOWER_H_
