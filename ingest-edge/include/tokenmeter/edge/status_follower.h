// StatusFollower: the distributed form's hand-over of workspace statuses from the
// processors to an edge. It reads the compacted status topic (key = workspace, value =
// EncodeWorkspaceStatus) from the beginning and keeps the edge's copy current, so every
// edge answers 402 once the plan limit is reached and carries the budget flags in its
// 202s. A record it cannot decode is logged and skipped.
//
// Threads: Start() spawns the follow thread; Stop() from the owner. The edge must
// outlive the follower.
#ifndef TOKENMETER_EDGE_STATUS_FOLLOWER_H_
#define TOKENMETER_EDGE_STATUS_FOLLOWER_H_

#include <atomic>
#include <memory>
#include <thread>

#include "tokenmeter/bus/subscriber.h"
#include "tokenmeter/edge/edge_service.h"

namespace tokenmeter {

class StatusFollower {
 public:
  StatusFollower(std::unique_ptr<Subscriber> subscriber, EdgeService& edge)
      : subscriber_(std::move(subscriber)), edge_(edge) {}
  ~StatusFollower() { Stop(); }
  void Start();
  void Stop();
  // Status records applied so far (for tests and logs).
  size_t Applied() const { return applied_.load(); }

 private:
  void Run();
  std::unique_ptr<Subscriber> subscriber_;
  EdgeService& edge_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> applied_{0};
};

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_STATUS_FOLLOWER_H_
