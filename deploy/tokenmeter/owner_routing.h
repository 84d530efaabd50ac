// Complete answers in the distributed form. A workspace's events all go to one partition
// (record key = workspace), and one processor of the group owns each partition; the
// others hold none of its state. So a question about a workspace (the query and alerts
// APIs) is answered by the processor that owns it and has its state complete:
//
//   owns it, complete      → answered here;
//   owns it, catching up   → 503 catching_up (rebuilding after a takeover);
//   another owns it        → sent on to that processor (the directory names it) and its
//                            answer passed back, with X-Tokenmeter-Answered-By;
//   no one answers for it  → 503 rebalancing (a rebalance, or its owner stopped), or
//                            503 owner_unreachable when the named owner cannot be reached.
//
// Never a 200 with another processor's partial view. Each processor publishes its claim
// on bus.kafka.processors_topic and reads everyone's (ProcessorDirectory).
//
// Threads: Handle on the HTTP server's threads; questions sent on run on the router's own
// pool (4 threads), answered from there.
#ifndef TOKENMETER_DEPLOY_OWNER_ROUTING_H_
#define TOKENMETER_DEPLOY_OWNER_ROUTING_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/bus/kafka_consumer.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/bus/processor_directory.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/processor/processor_runner.h"

namespace tokenmeter {

// How long a processor's claim counts after it was read: five of the runner's 1-s claims.
inline constexpr std::chrono::milliseconds kClaimLiveFor{5000};

// Reads bus.kafka.processors_topic whole, for as long as it runs, into a directory.
class DirectoryFollower {
 public:
  static Result<std::unique_ptr<DirectoryFollower>> Start(const KafkaConfig& kafka, ProcessorDirectory& directory);
  ~DirectoryFollower();

 private:
  DirectoryFollower(std::unique_ptr<KafkaConsumer> consumer, ProcessorDirectory& directory);
  std::unique_ptr<KafkaConsumer> consumer_;
  ProcessorDirectory& directory_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The runner's ProcessorBus::publish_claim: this processor's claim, as `*url` (set once
// its port is bound, before the runner starts), on the processors topic (an empty claim
// when it stops).
std::function<void(const std::set<int>&, const std::set<int>&)> ClaimPublisher(
    std::shared_ptr<Publisher> publisher, std::shared_ptr<const std::string> url, const Clock& clock);

class OwnerRouting final : public HttpHandler {
 public:
  OwnerRouting(ProcessorRunner& runner, const ProcessorDirectory& directory, const KeyRing& keys, const Clock& clock);
  ~OwnerRouting() override;
  void Handle(HttpRequest request, Respond respond) override;

 private:
  void Forward(std::string url, HttpRequest request, Respond respond);
  void Work();

  ProcessorRunner& runner_;
  const ProcessorDirectory& directory_;
  const KeyRing& keys_;
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // under mu_
  bool stop_ = false;                        // under mu_
  std::vector<std::thread> workers_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_OWNER_ROUTING_H_
