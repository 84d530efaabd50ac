// TopicFollower: the distributed form's hand-over from the processors to an edge through a
// topic the edge reads in a consumer group of its own: the compacted workspace-status topic
// (from its start: 402s and budget flags) and the outcomes topic (from its end: applied
// answers). Each record goes to `apply`, which returns false for one it cannot read (logged
// and skipped).
//
// Threads: Start() spawns the follow thread, which calls `apply`; Stop() from the owner.
// What `apply` touches must outlive the follower.
#ifndef TOKENMETER_EDGE_TOPIC_FOLLOWER_H_
#define TOKENMETER_EDGE_TOPIC_FOLLOWER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "tokenmeter/bus/subscriber.h"

namespace tokenmeter {

class TopicFollower {
 public:
  using Apply = std::function<bool(const ConsumedRecord&)>;
  // `what` names the topic in logs ("status", "outcomes").
  TopicFollower(std::unique_ptr<Subscriber> subscriber, std::string what, Apply apply)
      : subscriber_(std::move(subscriber)), what_(std::move(what)), apply_(std::move(apply)) {}
  ~TopicFollower() { Stop(); }
  void Start();
  void Stop();
  // True once partitions of the topic are assigned to it (before, records are missed). Any thread.
  bool Following() const { return following_.load(); }
  // Records applied so far (for tests and logs).
  size_t Applied() const { return applied_.load(); }

 private:
  void Run();
  std::unique_ptr<Subscriber> subscriber_;
  const std::string what_;
  const Apply apply_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> following_{false};
  std::atomic<size_t> applied_{0};
};

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_TOPIC_FOLLOWER_H_
