// Detectors in the stream: minutes are evaluated once closed (an event `grace` after
// their end), from the 1-minute rollups, and each condition decides one alert when it
// starts and one resolved notice when a later full window is normal again.
//   minutes 0-19  40 calls/min to checkout with prompt v1 (319,500 nano each)
//   minutes 20-22 prompt v2: 850 in / 960 out = 703,500 nano each -> drift, named v2
//   minutes 23-24 back to v1 -> resolved at minute 23
//   minute 27     30 calls of a model with no price -> unpriced share
#include <gtest/gtest.h>

#include "emit/alert_store.h"
#include "pipeline.h"
#include "retention.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

const TimePoint kT0 = *ParseRfc3339("2026-11-10T08:00:00.000Z");

class DriftAlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = StateStore::Open(dir_.path().string(), ProcessorStateOptions());
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    dedup_ = std::move(*DedupIndex::Load(*store_));
    journal_ = std::move(*RollupJournal::Open(*store_));
    pipeline_ = std::make_unique<BatchPipeline>(*store_, *dedup_, *journal_, parser_, prices_, "tokenmeter.events",
                                                std::make_shared<const LiveRules>(std::make_shared<const AlertRules>(AlertingConfig{})), &clock_);
  }
  // `n` calls in minute `minute` (spread over its first seconds); returns the alerts decided.
  std::vector<Alert> Minute(int minute, int n, const std::string& prompt, uint64_t out_tokens,
                            const std::string& model = "gpt-4o-mini") {
    std::vector<ConsumedRecord> msgs;
    for (int i = 0; i < n; ++i) {
      UsageEvent e = testing::TestEvent("acme", "m" + std::to_string(minute) + "-" + std::to_string(i), model, 850,
                                        out_tokens, kT0 + std::chrono::minutes(minute) + std::chrono::milliseconds(100 * i));
      e.endpoint_tag = "checkout";
      e.prompt_version = prompt;
      ConsumedRecord m{0, offset_++, "acme", ""};
      EncodeCanonical(e, m.value);
      msgs.push_back(std::move(m));
    }
    Result<PreparedBatch> p = pipeline_->Prepare(0, msgs);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_TRUE(pipeline_->Commit(*p).ok());
    // Fold every third minute: the detectors read folded rows and journal deltas alike.
    if (minute % 3 == 2) {
      EXPECT_TRUE(journal_->Fold().ok());
    }
    return p->alerts;
  }

  testing::TempDir dir_{"tm-drift"};
  FakeClock clock_{kT0};
  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_{limits_, normalizer_};
  std::shared_ptr<const PriceBook> prices_ = std::make_shared<const PriceBook>(*PriceBook::FromEmbedded());
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<DedupIndex> dedup_;
  std::unique_ptr<RollupJournal> journal_;
  std::unique_ptr<BatchPipeline> pipeline_;
  int64_t offset_ = 0;
};

TEST_F(DriftAlertsTest, APromptDeployDriftsOnceThenResolvesAndUnpricedCallsAreFlagged) {
  for (int m = 0; m < 20; ++m) EXPECT_TRUE(Minute(m, 40, "v1", 320).empty()) << "minute " << m;
  EXPECT_TRUE(Minute(20, 40, "v2", 960).empty());  // minute 19 closes: normal
  EXPECT_TRUE(Minute(21, 40, "v2", 960).empty());  // minute 20 is not closed yet (grace 60 s)
  std::vector<Alert> a = Minute(22, 40, "v2", 960);  // closes minute 20
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, AlertType::kCostPerRequestDrift);
  EXPECT_EQ(a[0].status, AlertStatus::kFiring);
  ASSERT_EQ(a[0].scope.size(), 1u);
  EXPECT_EQ(a[0].scope[0], (std::pair<std::string, std::string>{"endpointTag", "checkout"}));
  EXPECT_EQ(a[0].observed, "0.000703500000");
  EXPECT_EQ(a[0].baseline, "0.000319500000");
  EXPECT_EQ(a[0].threshold, "0.000479250000");
  EXPECT_EQ(FormatRfc3339(a[0].window_start), "2026-11-10T08:20:00.000Z");
  EXPECT_EQ(a[0].message,
            "Cost per request of endpoint checkout changed in the minute from 08:20 UTC (since 08:20 UTC): "
            "cost per request rose to $0.000703500000 from a median of $0.000319500000 (2.201877x) over 20 "
            "previous windows. Prompt version first seen in this window: v2.");
  std::string drift_id = a[0].id;

  EXPECT_TRUE(Minute(23, 40, "v1", 320).empty());  // closes 21: still drifting, no repeat
  EXPECT_TRUE(Minute(24, 40, "v1", 320).empty());  // closes 22: the same
  a = Minute(25, 1, "v1", 320);                     // closes 23: normal again
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, AlertType::kCostPerRequestDrift);
  EXPECT_EQ(a[0].status, AlertStatus::kResolved);
  EXPECT_NE(a[0].id, drift_id);
  EXPECT_EQ(a[0].message,
            "Cost per request of endpoint checkout is back to normal in the minute from 08:23 UTC (it began 08:20 UTC).");
  EXPECT_TRUE(Minute(26, 1, "v1", 320).empty());  // closes 24; a 1-call minute 25 cannot resolve or fire

  EXPECT_TRUE(Minute(27, 30, "v1", 320, "no-such-model-2026").empty());
  a = Minute(29, 1, "v1", 320);  // closes 27
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, AlertType::kUnpricedShare);
  EXPECT_EQ(a[0].observed, "1.000000");
  EXPECT_EQ(a[0].threshold, "0.050000");

  // Everything decided is listed, once.
  AlertStore alerts(*store_);
  auto listed = alerts.List("acme", kT0, kT0 + std::chrono::hours(1), 100);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
}

}  // namespace
}  // namespace tokenmeter
