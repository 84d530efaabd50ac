// Retention on a real RocksDB: compactions drop dedup records past the dedup window
// and event rows past their retention, keep everything younger and every row whose time
// cannot be read, leave the other families alone, and count what they dropped.
#include "retention.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <map>

#include "aggregate/rollup.h"
#include "dedup/dedup_record.h"
#include "pipeline.h"
#include "processor_probe.h"
#include "state/fixed_codec.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

const TimePoint kNow = *ParseRfc3339("2026-03-01T00:00:00.000Z");

int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RetentionConfig r;  // 35 days for ids, 30 for event rows
    auto s = StateStore::Open(dir_.path().string(), ProcessorStateOptions(&r, &clock_));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  // A record first seen then, stored under its row key (keyed by that time).
  void PutDedup(const std::string& id, TimePoint first_seen) {
    DedupRecord rec{Ms(first_seen), 1, 42, ""};
    std::string value;
    rec.EncodeTo(value, std::string(kEventKeyHeadBytes, '\0'));
    Put(Family::kDedup, DKey(id, first_seen), value);
  }
  // The row key of `id` (the first time it is asked for, keyed at `at`).
  std::string DKey(const std::string& id, TimePoint at = kNow) {
    auto [it, fresh] = dedup_keys_.emplace(id, "");
    if (fresh) AppendDedupRowKey(DedupIndex::KeyTime(Ms(at)), DedupKey("acme", id), it->second);
    return it->second;
  }
  std::string PutEvent(const std::string& id, TimePoint occurred) {
    UsageEvent e = testing::TestEvent("acme", id, "gpt-4o-mini", 1, 1, occurred);
    std::string key;
    AppendEventKey(e, key);
    Put(Family::kEvents, key, "stored event " + id);
    return key;
  }
  void Put(Family f, const std::string& key, const std::string& value) {
    StateStore::Batch b = store_->NewBatch();
    b.Put(f, key, value);
    ASSERT_TRUE(store_->Commit(b).ok());
  }
  bool Has(Family f, const std::string& key) {
    auto v = store_->Get(f, key);
    EXPECT_TRUE(v.ok());
    return v.ok() && v->has_value();
  }
  std::map<std::string, std::string> dedup_keys_;
  void CompactAll() {
    ASSERT_TRUE(store_->CompactAll(Family::kDedup).ok());
    ASSERT_TRUE(store_->CompactAll(Family::kEvents).ok());
    ASSERT_TRUE(store_->CompactAll(Family::kRollups).ok());
  }

  testing::TempDir dir_{"tm-retention"};
  FakeClock clock_{kNow};
  std::unique_ptr<StateStore> store_;
};

TEST_F(RetentionTest, CompactionsDropIdsPastTheWindowAndKeepTheRest) {
  PutDedup("old", kNow - std::chrono::days(35) - std::chrono::milliseconds(1));
  PutDedup("edge", kNow - std::chrono::days(35));
  PutDedup("young", kNow - std::chrono::days(34));
  Put(Family::kDedup, DKey("unreadable"), "xx");
  Put(Family::kRollups, "a rollup row of no readable key", "kept");
  CompactAll();
  EXPECT_FALSE(Has(Family::kDedup, DKey("old")));
  EXPECT_TRUE(Has(Family::kDedup, DKey("edge"))) << "exactly 35 days: still inside";
  EXPECT_TRUE(Has(Family::kDedup, DKey("young")));
  EXPECT_TRUE(Has(Family::kDedup, DKey("unreadable"))) << "a record it cannot read is kept";
  EXPECT_TRUE(Has(Family::kRollups, "a rollup row of no readable key"));
  EXPECT_EQ(store_->Expired(Family::kDedup), 1u);
  EXPECT_EQ(store_->Expired(Family::kEvents), 0u);

  clock_.Set(kNow + std::chrono::days(2));  // "young" is 36 days old now
  CompactAll();
  EXPECT_FALSE(Has(Family::kDedup, DKey("edge")));
  EXPECT_FALSE(Has(Family::kDedup, DKey("young")));
  EXPECT_TRUE(Has(Family::kDedup, DKey("unreadable")));
  EXPECT_EQ(store_->Expired(Family::kDedup), 3u);
}

TEST_F(RetentionTest, CompactionsDropEventRowsByTheirOccurredAt) {
  std::string old_row = PutEvent("old", kNow - std::chrono::days(30) - std::chrono::seconds(1));
  std::string young_row = PutEvent("young", kNow - std::chrono::days(29));
  Put(Family::kEvents, "no-nul-byte", "kept: no time in it");
  CompactAll();
  EXPECT_FALSE(Has(Family::kEvents, old_row));
  EXPECT_TRUE(Has(Family::kEvents, young_row));
  EXPECT_TRUE(Has(Family::kEvents, "no-nul-byte"));
  EXPECT_EQ(store_->Expired(Family::kEvents), 1u);
  EXPECT_EQ(store_->Expired(Family::kDedup), 0u);
}

// A rollup row is kept its granularity's days after its bucket ends (14 for minutes, 400
// for hours, 3650 for days by default), whether it was written whole or as merges.
TEST_F(RetentionTest, CompactionsDropRollupRowsPastTheirGranularitysDays) {
  auto row = [](Granularity g, TimePoint bucket) {
    return RollupKey("acme", DataMode::kReal, g, Dimension::kTotal, BucketStart(bucket, g), {"prod", ""}, "");
  };
  RollupCounters one;
  one.v[kRequests] = 1;
  // A minute that ended exactly 14 days ago is still kept; the one before it is not.
  const TimePoint minute_edge = kNow - std::chrono::days(14) - std::chrono::minutes(1);
  const std::string old_minute = row(Granularity::kMinute, minute_edge - std::chrono::minutes(1));
  const std::string edge_minute = row(Granularity::kMinute, minute_edge);
  const std::string hour_same_time = row(Granularity::kHour, minute_edge - std::chrono::minutes(1));
  const std::string old_hour = row(Granularity::kHour, kNow - std::chrono::days(401));
  const std::string day_same_time = row(Granularity::kDay, kNow - std::chrono::days(401));
  for (const std::string& k : {old_minute, edge_minute, hour_same_time, old_hour, day_same_time}) {
    Put(Family::kRollups, k, one.Encode());
    StateStore::Batch b = store_->NewBatch();
    b.Merge(Family::kRollups, k, one.Encode());  // a second write, as batches merge them
    ASSERT_TRUE(store_->Commit(b).ok());
  }
  CompactAll();
  EXPECT_FALSE(Has(Family::kRollups, old_minute));
  EXPECT_TRUE(Has(Family::kRollups, edge_minute)) << "its bucket ended exactly 14 days ago";
  EXPECT_EQ(RollupCounters::Decode(**store_->Get(Family::kRollups, edge_minute)).v[kRequests], 2);
  EXPECT_TRUE(Has(Family::kRollups, hour_same_time)) << "hours are kept 400 days";
  EXPECT_FALSE(Has(Family::kRollups, old_hour));
  EXPECT_TRUE(Has(Family::kRollups, day_same_time)) << "days are kept 3650 days";
  EXPECT_GE(store_->Expired(Family::kRollups), 2u);

  clock_.Set(kNow + std::chrono::minutes(1));
  CompactAll();
  EXPECT_FALSE(Has(Family::kRollups, edge_minute));
}

TEST_F(RetentionTest, AStoreOpenedWithoutRetentionKeepsEverything) {
  store_.reset();
  auto s = StateStore::Open(dir_.path().string(), ProcessorStateOptions());
  ASSERT_TRUE(s.ok());
  store_ = std::move(*s);
  PutDedup("old", kNow - std::chrono::days(3650));
  std::string row = PutEvent("old", kNow - std::chrono::days(3650));
  CompactAll();
  EXPECT_TRUE(Has(Family::kDedup, DKey("old")));
  EXPECT_TRUE(Has(Family::kEvents, row));
}

TEST_F(RetentionTest, IdsAreKeptWhileAPartitionBehindCouldStillBringTheirRetries) {
  // A rebuild replaying a long log: partition 0 has committed up to 10 days ago, so a
  // retry received up to 35 days after that may still come.
  DedupHorizon horizon;
  store_.reset();
  const RetentionConfig defaults;
  auto s = StateStore::Open(dir_.path().string(), ProcessorStateOptions(&defaults, &clock_, &horizon));
  ASSERT_TRUE(s.ok());
  store_ = std::move(*s);
  PutDedup("40 days", kNow - std::chrono::days(40));
  PutDedup("46 days", kNow - std::chrono::days(46));
  CompactAll();
  EXPECT_TRUE(Has(Family::kDedup, DKey("46 days"))) << "horizon unknown: nothing is dropped";

  std::map<int, std::optional<TimePoint>> newest = {{0, kNow - std::chrono::days(10)}, {1, std::nullopt}};
  auto newest_of = [&](int p) { return newest[p]; };
  horizon.Update(kNow, {0, 1}, {{0, 5000}, {1, 0}}, newest_of);  // 1 is caught up
  EXPECT_EQ(horizon.Get(), std::optional<int64_t>(Ms(kNow - std::chrono::days(10))));
  CompactAll();
  EXPECT_TRUE(Has(Family::kDedup, DKey("40 days")));
  EXPECT_FALSE(Has(Family::kDedup, DKey("46 days")));

  horizon.Update(kNow, {0, 1}, {{0, 0}, {1, 0}}, newest_of);  // the replay has caught up
  EXPECT_EQ(horizon.Get(), std::optional<int64_t>(Ms(kNow)));
  CompactAll();
  EXPECT_FALSE(Has(Family::kDedup, DKey("40 days")));
  EXPECT_EQ(store_->Expired(Family::kDedup), 2u);
}

TEST(DedupHorizonTest, APartitionBehindWithNothingCommittedOrUnknownLagHoldsEverything) {
  DedupHorizon h;
  EXPECT_EQ(h.Get(), std::nullopt);
  auto none = [](int) { return std::optional<TimePoint>(); };
  h.Update(kNow, {}, {}, none);
  EXPECT_EQ(h.Get(), std::optional<int64_t>(Ms(kNow))) << "no partitions: the wall clock";
  h.Update(kNow, {3}, {{3, 7}}, none);
  EXPECT_EQ(h.Get(), std::nullopt) << "behind and nothing committed yet";
  auto day_ago = [](int) { return std::optional<TimePoint>(kNow - std::chrono::days(1)); };
  h.Update(kNow, {3}, {}, day_ago);
  EXPECT_EQ(h.Get(), std::optional<int64_t>(Ms(kNow - std::chrono::days(1)))) << "lag not known: counted as behind";
}

TEST(EventKeyTimeTest, ReadsTheOccurredAtBackAndRefusesOtherShapes) {
  UsageEvent e = testing::TestEvent("acme", "r1", "gpt-4o-mini", 1, 1, kNow);
  std::string key;
  AppendEventKey(e, key);
  EXPECT_EQ(EventKeyTime(key), std::optional<int64_t>(Ms(kNow)));
  EXPECT_EQ(EventKeyTime(key.substr(0, kEventKeyHeadBytes)), std::optional<int64_t>(Ms(kNow)));
  EXPECT_EQ(EventKeyTime(key.substr(0, kEventKeyHeadBytes - 1)), std::nullopt) << "too short";
  // Keys of any other shape (the workspace-first layout of early development builds).
  std::string other = std::string(
      "acme\0"
      "0\0",
      7);
  AppendBigEndian(other, static_cast<uint64_t>(Ms(kNow) - 1));
  other += "r1";
  EXPECT_EQ(EventKeyTime(other), std::nullopt);
  EXPECT_EQ(EventKeyTime("acme"), std::nullopt);
  EXPECT_EQ(EventKeyTime(std::string("acme\0" "1", 6)), std::nullopt) << "too short";
  EXPECT_EQ(EventKeyTime(std::string("acme\0" "1x12345678", 15)), std::nullopt) << "no NUL after the mode";
}

TEST(RetentionMetricTest, TheStoresTotalsBecomeCountersPerFamily) {
  prometheus::Registry registry;
  ProcessorProbe probe(registry);
  probe.Expired(3, 0, 1);
  probe.Expired(5, 2, 4);
  std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("tokenmeter_processor_rows_expired_total{family=\"dedup\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tokenmeter_processor_rows_expired_total{family=\"events\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tokenmeter_processor_rows_expired_total{family=\"rollups\"} 4\n"), std::string::npos) << text;
}

TEST(RetentionConfigTest, DaysMustBeInRange) {
  RetentionConfig r;
  EXPECT_TRUE(r.Validate().ok());
  r.dedup_days = 0;
  EXPECT_EQ(r.Validate().message(), "retention.dedup_days must be in [1, 3650]");
  r.dedup_days = 35;
  r.events_days = 3651;
  EXPECT_EQ(r.Validate().message(), "retention.events_days must be in [1, 3650]");
  r.events_days = 30;
  r.day_rollup_days = 0;
  EXPECT_EQ(r.Validate().message(), "retention.day_rollup_days must be in [1, 3650]");
  r.day_rollup_days = 300;
  EXPECT_EQ(r.Validate().message(),
            "retention: need minute_rollup_days <= hour_rollup_days <= day_rollup_days (a coarser row covers what a "
            "finer one no longer does)");
}

}  // namespace
}  // namespace tokenmeter
