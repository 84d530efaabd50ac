// ProcessorRunner's standing for a workspace (distributed form): a processor answers for a
// workspace only when it owns its partition and has applied every record the log held
// when it took the partition over; it publishes that claim (serving / catching up) as it
// changes, and an empty one when it stops.
#include "tokenmeter/processor/processor_runner.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <future>
#include <mutex>
#include <thread>

#include "fake_publisher.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/bus/embedded_log.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

// The embedded log's subscriber as a Kafka consumer of a 2-partition topic sees it: this
// processor took partition 0 over when its log ended at `taken_at`; workspace beta lives
// on partition 1, owned by another processor.
class TakenOver final : public Subscriber {
 public:
  TakenOver(std::unique_ptr<Subscriber> inner, int64_t taken_at) : inner_(std::move(inner)), taken_at_(taken_at) {}
  Result<std::vector<ConsumedRecord>> Poll(std::chrono::milliseconds timeout, size_t max) override {
    return inner_->Poll(timeout, max);
  }
  Status Seek(int partition, int64_t offset) override { return inner_->Seek(partition, offset); }
  void CommitForLag(const std::map<int, int64_t>& next) override { inner_->CommitForLag(next); }
  std::set<int> Assigned() const override { return {0}; }
  std::set<int> HistoryLost() const override { return {}; }
  std::map<int, int64_t> Lag() override { return inner_->Lag(); }
  std::optional<int> PartitionOf(std::string_view key) override { return key == "beta" ? 1 : 0; }
  std::map<int, int64_t> TakenAt() const override { return {{0, taken_at_}}; }
  void Close() override { inner_->Close(); }

 private:
  std::unique_ptr<Subscriber> inner_;
  const int64_t taken_at_;
};

TEST(ProcessorRunnerTest, AnswersForAWorkspaceOnlyOnceItsPartitionIsCompleteAndClaimsIt) {
  testing::TempDir dir("runner");
  auto log = EmbeddedLog::Open({dir.path().string() + "/log", "events.log", 100000});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::vector<BusRecord> records;
  const TimePoint at = *ParseRfc3339("2026-02-07T12:34:56.000Z");
  for (int i = 0; i < 300; ++i) {
    std::string value;
    EncodeCanonical(testing::TestEvent("acme", "r" + std::to_string(i), "gpt-4o-mini", 850, 320, at), value);
    records.push_back({"acme", std::move(value)});
  }
  std::promise<Status> appended;
  (*log)->Publish(records, [&](Status s) { appended.set_value(s); });
  ASSERT_TRUE(appended.get_future().get().ok());

  std::mutex mu;
  std::vector<std::pair<std::set<int>, std::set<int>>> claims;
  ProcessorBus bus;
  bus.topic = "tokenmeter.events";
  bus.dead_letters = std::make_shared<testing::FakePublisher>();
  EmbeddedLog& events = **log;
  bus.subscribe = [&events](Subscriber::NextOffsetFn next) -> Result<std::unique_ptr<Subscriber>> {
    auto sub = events.Subscribe(std::move(next));
    if (!sub.ok()) return sub.status();
    return std::unique_ptr<Subscriber>(std::make_unique<TakenOver>(std::move(*sub), 300));
  };
  bus.publish_claim = [&](const std::set<int>& serving, const std::set<int>& catching_up) {
    std::lock_guard lock(mu);
    claims.emplace_back(serving, catching_up);
  };
  ProcessorConfig config;
  config.state_dir = dir.path().string() + "/state";
  config.max_batch = 100;  // three batches to catch up
  config.poll_timeout_ms = 20;
  KeyRing keys;
  SystemClock clock;
  prometheus::Registry registry;
  auto runner = ProcessorRunner::Create(config, std::move(bus), IngestLimits{}, keys, clock, registry,
                                        *PricingRules::Make({}, {}));
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();

  using Kind = ProcessorRunner::Standing::Kind;
  EXPECT_EQ((*runner)->StandingOf("acme").kind, Kind::kCatchingUp);  // nothing applied of the 300
  EXPECT_EQ((*runner)->StandingOf("acme").partition, 0);
  EXPECT_EQ((*runner)->StandingOf("beta").kind, Kind::kElsewhere);
  EXPECT_EQ((*runner)->StandingOf("beta").partition, 1);

  (*runner)->Start();
  for (int i = 0; i < 500 && (*runner)->StandingOf("acme").kind != Kind::kServing; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ((*runner)->StandingOf("acme").kind, Kind::kServing);
  for (int i = 0; i < 500; ++i) {  // the claim follows on the consume thread
    {
      std::lock_guard lock(mu);
      if (!claims.empty() && claims.back().first == std::set<int>{0}) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*runner)->Stop();
  std::lock_guard lock(mu);
  ASSERT_GE(claims.size(), 3u);
  // First claimed while catching up (after the first 100 of 300), then serving, then none.
  EXPECT_EQ(claims.front().first, std::set<int>{});
  EXPECT_EQ(claims.front().second, std::set<int>{0});
  EXPECT_EQ(claims[claims.size() - 2].first, std::set<int>{0});
  EXPECT_EQ(claims[claims.size() - 2].second, std::set<int>{});
  EXPECT_TRUE(claims.back().first.empty() && claims.back().second.empty());
}

}  // namespace
}  // namespace tokenmeter
