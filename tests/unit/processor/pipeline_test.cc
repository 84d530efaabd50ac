// The processor's batch pipeline on a real RocksDB in a temp dir: exact totals, each
// (workspace, request_id) counted once with its attempts, redelivery skipped by the
// stored offsets, nothing applied before Commit, poison records dead-lettered.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "pipeline_fixture.h"

namespace tokenmeter {
namespace {

TEST_F(PipelineTest, NewEventsAreCountedWithExactCostsInEveryGranularity) {
  // gpt-4o-mini 850/320 = 319,500 nano; gpt-4.1 1200/450 = 1200*2000 + 450*8000 = 6,000,000.
  BatchStats s = Apply({Msg(0, Event("a", "gpt-4o-mini", 850, 320)),
                        Msg(1, Event("b", "gpt-4.1", 1200, 450, "contract-analysis"))});
  EXPECT_EQ(s.counted, 2u);
  for (Granularity g : kGranularities) {
    RollupCounters t = Rollup(g, Dimension::kTotal, "");
    EXPECT_EQ(t.v[kRequests], 2);
    EXPECT_EQ(t.v[kSuccesses], 2);
    EXPECT_EQ(t.v[kInputTokens], 2050);
    EXPECT_EQ(t.v[kOutputTokens], 770);
    EXPECT_EQ(t.v[kCostNano], 6'319'500);
  }
  EXPECT_EQ(Rollup(Granularity::kHour, Dimension::kEndpointTag, "checkout.ai_summary").v[kCostNano], 319'500);
  EXPECT_EQ(Rollup(Granularity::kHour, Dimension::kEndpointTag, "contract-analysis").v[kCostNano], 6'000'000);
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kModel, "gpt-4.1").v[kRequests], 1);
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kProvider, "openai").v[kRequests], 2);
  EXPECT_EQ(*store_->NextOffset("tokenmeter.events", 0), std::optional<int64_t>(2));
}

TEST_F(PipelineTest, DuplicatesWithinAndAcrossBatchesAreCountedOnceAndRaiseAttempts) {
  UsageEvent a = Event("a", "gpt-4o-mini", 850, 320);
  UsageEvent retry = a;
  retry.received_at = kT + std::chrono::seconds(2);  // a client retry: same call, later
  BatchStats s1 = Apply({Msg(0, a), Msg(1, retry), Msg(2, Event("b", "gpt-4o-mini", 10, 10))});
  EXPECT_EQ(s1.counted, 2u);
  EXPECT_EQ(s1.duplicates, 1u);
  BatchStats s2 = Apply({Msg(3, retry), Msg(4, retry)});
  EXPECT_EQ(s2.counted, 0u);
  EXPECT_EQ(s2.duplicates, 2u);
  EXPECT_EQ(s2.conflicts, 0u);
  EXPECT_EQ(Attempts("a"), 4u);
  EXPECT_EQ(Attempts("b"), 1u);
  RollupCounters t = Rollup(Granularity::kMinute, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 2);
  EXPECT_EQ(t.v[kDuplicates], 3);
  EXPECT_EQ(t.v[kCostNano], 319'500 + 10 * 150 + 10 * 600);
}

TEST_F(PipelineTest, RecordsDecodedOnTwoThreadsGiveTheSameBatchInOffsetOrder) {
  Apply({Msg(0, Event("a", "gpt-4o-mini", 850, 320))});
  ConsumedRecord wrong_key = Msg(3, Event("c", "gpt-4o-mini", 850, 320));
  wrong_key.key = "other";
  std::vector<ConsumedRecord> batch = {Msg(0, Event("a", "gpt-4o-mini", 850, 320)),  // redelivered
                                   Msg(1, Event("b", "gpt-4o-mini", 850, 320)),
                                   {0, 2, "acme", "{\"workspace\":"},
                                   wrong_key,
                                   Msg(4, Event("b", "gpt-4o-mini", 850, 320)),  // a retry
                                   Msg(5, Event("a", "gpt-4.1", 850, 320)),      // a conflict
                                   Msg(6, Event("d", "gpt-4.1", 1200, 450)),
                                   Msg(7, Event("e", "gpt-4o-mini", 850, 320))};
  std::vector<size_t> halves;  // each half's size, the second's done on another thread
  std::thread::id other;
  SplitRunner split = [&](size_t n, const std::function<void(size_t, size_t)>& work) {
    std::thread t([&] {
      other = std::this_thread::get_id();
      work(n / 2, n);
    });
    work(0, n / 2);
    t.join();
    halves = {n / 2, n - n / 2};
  };
  Result<PreparedBatch> p = pipeline_->Prepare(0, batch, &split);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(halves, (std::vector<size_t>{4, 4}));
  EXPECT_NE(other, std::this_thread::get_id());
  ASSERT_TRUE(pipeline_->Commit(*p).ok());
  EXPECT_EQ(p->stats.redelivered, 1u);
  EXPECT_EQ(p->stats.consumed, 7u);
  EXPECT_EQ(p->stats.counted, 3u);
  EXPECT_EQ(p->stats.duplicates, 1u);
  EXPECT_EQ(p->stats.conflicts, 1u);
  ASSERT_EQ(p->dead_letters.size(), 3u);
  EXPECT_EQ(p->dead_letters[0].offset, 2);
  EXPECT_EQ(p->dead_letters[0].kind, DeadLetterReason::kMalformed);
  EXPECT_EQ(p->dead_letters[1].offset, 3);
  EXPECT_EQ(p->dead_letters[1].kind, DeadLetterReason::kWrongKey);
  EXPECT_EQ(p->dead_letters[1].reason, "record key \"other\" is not the event's workspace");
  EXPECT_EQ(p->dead_letters[2].offset, 5);
  EXPECT_EQ(p->dead_letters[2].kind, DeadLetterReason::kConflict);
  // a, b, e at 319,500 nano each and d at 6,000,000; a's conflicting copy is not priced in.
  RollupCounters t = Rollup(Granularity::kMinute, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 4);
  EXPECT_EQ(t.v[kDuplicates], 1);  // b's retry; a's conflicting copy is no retry
  EXPECT_EQ(t.v[kCostNano], 6'958'500);
  EXPECT_EQ(Attempts("a"), 1u) << "its conflicting copy is another call";
  EXPECT_EQ(Attempts("b"), 2u);
  EXPECT_EQ(Attempts("d"), 1u);
  DedupChoice record = Dedup("d");
  ASSERT_TRUE(record.record);
  auto d = store_->Get(Family::kEvents, record.record->event_key);
  ASSERT_TRUE(d.ok() && d->has_value());
}

TEST_F(PipelineTest, EachBatchKeysItsEventRowsAfterEveryRowStoredBefore) {
  // Receive time first, raised to one past the newest key before: a batch received
  // earlier than the last one (edge threads, partitions) still sorts after it, so
  // flushed files do not overlap and compactions move them instead of rewriting.
  auto at = [](const std::string& id, TimePoint received) {
    UsageEvent e = Event(id, "gpt-4o-mini", 10, 10);
    e.received_at = received;
    return e;
  };
  auto key_of = [&](const std::string& id) {
    DedupChoice c = Dedup(id);
    EXPECT_TRUE(c.record) << id;
    if (!c.record) return std::string();
    auto v = store_->Get(Family::kDedup, c.key);
    EXPECT_EQ((**v).size(), 39u) << "the record keeps only the head of the event key";
    return c.record->event_key;
  };
  auto key_time = [](const std::string& key) { return GetBigEndian(key, 1); };
  auto ms = [](TimePoint t) { return static_cast<uint64_t>(t.time_since_epoch().count()); };
  const TimePoint t1 = kT + std::chrono::seconds(10);
  Apply({Msg(0, at("a", t1)), Msg(1, at("b", t1 + std::chrono::milliseconds(5)))});
  Apply({Msg(2, at("c", kT)), Msg(3, at("d", kT + std::chrono::milliseconds(1)))});
  Apply({Msg(4, at("e", kT + std::chrono::seconds(20)))});
  EXPECT_EQ(key_time(key_of("a")), ms(t1));
  EXPECT_EQ(key_time(key_of("b")), ms(t1) + 5);
  EXPECT_EQ(key_time(key_of("c")), ms(t1) + 6) << "received earlier: keyed at the floor";
  EXPECT_EQ(key_time(key_of("d")), ms(t1) + 6);
  EXPECT_EQ(key_time(key_of("e")), ms(kT + std::chrono::seconds(20)))
      << "above the floor: its own time";
  EXPECT_LT(key_of("b"), key_of("c"));
  EXPECT_LT(key_of("d"), key_of("e"));
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    std::string key = key_of(id);
    EXPECT_EQ(EventKeyTime(key), std::optional<int64_t>(ms(kT))) << "occurredAt, for retention";
    auto row = store_->Get(Family::kEvents, key);
    ASSERT_TRUE(row.ok() && row->has_value()) << id;
    std::optional<StoredEventJson> stored = StoredEventToJson(**row);
    ASSERT_TRUE(stored);
    EXPECT_NE(stored->event.find("\"request_id\":\"" + std::string(id) + "\""), std::string::npos)
        << stored->event;
  }
}

TEST_F(PipelineTest, DedupRowsAreKeyedByTheirEventRowsSecondAndFoundThroughTheIndexAfterAReopen) {
  auto at = [](const std::string& id, TimePoint received) {
    UsageEvent e = Event(id, "gpt-4o-mini", 10, 10);
    e.received_at = received;
    return e;
  };
  const TimePoint t1 = kT + std::chrono::milliseconds(10'900);
  Apply({Msg(0, at("z", t1)), Msg(1, at("y", t1 + std::chrono::milliseconds(50)))});
  Apply({Msg(2, at("x", kT))});  // received earlier: keyed at the floor, in t1's second
  Apply({Msg(3, at("a", t1 + std::chrono::milliseconds(200)))});  // the next second
  std::vector<std::string> keys;
  std::string first, last(1, '\xff');
  ASSERT_TRUE(store_
                  ->Scan(Family::kDedup, first, last,
                         [&](std::string_view k, std::string_view) {
                           keys.emplace_back(k);
                           return true;
                         })
                  .ok());
  auto row_key = [](TimePoint second, const std::string& id) {
    std::string k;
    AppendDedupRowKey(second.time_since_epoch().count(), DedupKey("acme", id), k);
    return k;
  };
  const TimePoint s1 = kT + std::chrono::seconds(10);
  EXPECT_EQ(keys, (std::vector<std::string>{row_key(s1, "x"), row_key(s1, "y"), row_key(s1, "z"),
                                            row_key(s1 + std::chrono::seconds(1), "a")}));
  EXPECT_EQ(dedup_->used(), 4u);

  Reopen();  // the index is built again from the family
  EXPECT_EQ(dedup_->used(), 4u);
  UsageEvent retry = at("x", kT);
  retry.received_at = kT + std::chrono::seconds(30);
  BatchStats s = Apply({Msg(4, retry), Msg(5, at("a", kT)), Msg(6, at("w", kT))});
  EXPECT_EQ(s.duplicates, 2u);
  EXPECT_EQ(s.counted, 1u);
  EXPECT_EQ(Attempts("x"), 2u);
  EXPECT_EQ(Dedup("x").key, row_key(s1, "x")) << "a duplicate's record stays where it is";
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kTotal, "").v[kRequests], 5);
}

TEST_F(PipelineTest, RollupRowsSummedWhileDecodingLeaveOutEveryEventThatIsNotNew) {
  // Decode sums every valid event's rows on its thread; Prepare takes back a redelivered
  // record, a retry and a conflict. Rows only they touched must not be written at all.
  auto with = [](UsageEvent e, const std::string& user, uint32_t latency_ms) {
    e.user_id = user;
    e.latency_ms = latency_ms;
    return e;
  };
  UsageEvent a = with(Event("a", "gpt-4o-mini", 850, 320), "u-a", 900);
  UsageEvent b = with(Event("b", "gpt-4o-mini", 850, 320), "u-b", 700);
  Apply({Msg(0, a)});
  std::vector<ConsumedRecord> batch = {
      Msg(0, with(Event("a", "gpt-4o-mini", 850, 320), "u-redelivered", 50)),  // below the offset
      Msg(1, b),
      Msg(2, b),                                                      // a retry
      Msg(3, with(Event("a", "gpt-4.1", 850, 320), "u-conflict", 20000)),  // a conflict
      Msg(4, with(Event("c", "gpt-4o-mini", 850, 320), "u-b", 700)),
      Msg(5, with(Event("d", "gpt-4.1", 1200, 450), "u-d", 5000))};
  SplitRunner split = [](size_t n, const std::function<void(size_t, size_t)>& work) {
    std::thread t([&] { work(n / 2, n); });
    work(0, n / 2);
    t.join();
  };
  Result<PreparedBatch> p = pipeline_->Prepare(0, batch, &split);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(pipeline_->Commit(*p).ok());
  EXPECT_EQ(p->stats.counted, 3u);
  EXPECT_EQ(p->stats.duplicates, 1u);
  EXPECT_EQ(p->stats.conflicts, 1u);

  RollupCounters t = Rollup(Granularity::kMinute, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 4);  // a before, then b, c, d
  EXPECT_EQ(t.v[kDuplicates], 1);  // the conflict is no retry
  EXPECT_EQ(t.v[kCostNano], 3 * 319'500 + 6'000'000);
  EXPECT_EQ(t.v[kLatencySumMs], 900 + 700 + 700 + 5000);
  using Buckets = std::vector<std::pair<uint16_t, int64_t>>;
  Buckets want = {{LatencySketch::BucketOf(700), 2}, {LatencySketch::BucketOf(900), 1},
                  {LatencySketch::BucketOf(5000), 1}};
  EXPECT_EQ(t.latency.buckets, want);
  RollupCounters ub = Rollup(Granularity::kMinute, Dimension::kUser, "u-b");
  EXPECT_EQ(ub.v[kRequests], 2);
  EXPECT_EQ(ub.latency.buckets, (Buckets{{LatencySketch::BucketOf(700), 2}}));
  RollupCounters gpt41 = Rollup(Granularity::kMinute, Dimension::kModel, "gpt-4.1");
  EXPECT_EQ(gpt41.v[kRequests], 1);  // d only
  EXPECT_EQ(gpt41.v[kCostNano], 6'000'000);

  ASSERT_TRUE(journal_->Fold().ok());
  for (const char* user : {"u-redelivered", "u-conflict"}) {
    auto row = store_->Get(Family::kRollups, RollupKey("acme", DataMode::kReal, Granularity::kMinute,
                                                       Dimension::kUser, BucketStart(kT, Granularity::kMinute),
                                                       {"prod", ""}, user));
    ASSERT_TRUE(row.ok());
    EXPECT_FALSE(row->has_value()) << user;
  }
  EXPECT_EQ(Folded(Granularity::kMinute, Dimension::kUser, "u-b").v[kRequests], 2);
  EXPECT_EQ(Folded(Granularity::kMinute, Dimension::kUser, "u-d").v[kRequests], 1);
}

TEST_F(PipelineTest, TheNewestCommittedReceiveTimeIsKeptPerPartition) {
  EXPECT_EQ(pipeline_->NewestReceived(0), std::nullopt);
  UsageEvent a = Event("a", "gpt-4o-mini", 1, 1);
  UsageEvent b = Event("b", "gpt-4o-mini", 1, 1);
  b.received_at = kT + std::chrono::seconds(30);
  Result<PreparedBatch> p = pipeline_->Prepare(0, {Msg(0, b), Msg(1, a)});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(pipeline_->NewestReceived(0), std::nullopt) << "not before the commit";
  ASSERT_TRUE(pipeline_->Commit(*p).ok());
  EXPECT_EQ(pipeline_->NewestReceived(0), std::optional<TimePoint>(kT + std::chrono::seconds(30)));
  EXPECT_EQ(pipeline_->NewestReceived(1), std::nullopt);
}

TEST_F(PipelineTest, RedeliveredRecordsAreSkippedByTheStoredOffset) {
  std::vector<ConsumedRecord> batch = {Msg(0, Event("a", "gpt-4o-mini", 850, 320)),
                                   Msg(1, Event("b", "gpt-4o-mini", 850, 320))};
  Apply(batch);
  BatchStats again = Apply(batch);  // the bus redelivers after a rebalance or restart
  EXPECT_EQ(again.redelivered, 2u);
  EXPECT_EQ(again.consumed, 0u);
  BatchStats overlap = Apply({batch[1], Msg(2, Event("c", "gpt-4o-mini", 850, 320))});
  EXPECT_EQ(overlap.redelivered, 1u);
  EXPECT_EQ(overlap.counted, 1u);
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kTotal, "").v[kRequests], 3);
  EXPECT_EQ(Attempts("b"), 1u) << "a redelivered record is not a client retry";
}

TEST_F(PipelineTest, NothingIsAppliedBeforeCommitAndACrashReplaysExactlyOnce) {
  std::vector<ConsumedRecord> batch = {Msg(0, Event("a", "gpt-4o-mini", 850, 320))};
  {
    Result<PreparedBatch> p = pipeline_->Prepare(0, batch);
    ASSERT_TRUE(p.ok());
    // Crash here: the prepared batch is dropped, never committed.
  }
  Reopen();
  EXPECT_EQ(*store_->NextOffset("tokenmeter.events", 0), std::nullopt);
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kTotal, "").v[kRequests], 0);
  Apply(batch);
  Reopen();  // committed state survives a restart
  Apply(batch);
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kTotal, "").v[kRequests], 1);
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kTotal, "").v[kCostNano], 319'500);
  EXPECT_EQ(*store_->NextOffset("tokenmeter.events", 0), std::optional<int64_t>(1));
}

TEST_F(PipelineTest, PoisonRecordsAreDeadLetteredAndThePartitionMovesOn) {
  UsageEvent wrong_key = Event("k", "gpt-4o-mini", 1, 1);
  ConsumedRecord mismatched = Msg(2, wrong_key);
  mismatched.key = "globex";
  ConsumedRecord cut = Msg(4, Event("cut", "gpt-4o-mini", 1, 1));
  cut.value.resize(cut.value.size() / 2);
  UsageEvent bad_mode = Event("bad-mode", "gpt-4o-mini", 1, 1);
  bad_mode.data_mode = static_cast<DataMode>(7);
  Result<PreparedBatch> p = pipeline_->Prepare(
      0, {ConsumedRecord{0, 0, "acme", "not json"},
          ConsumedRecord{0, 1, "acme", R"({"v":1,"workspace":"acme","request_id":"x"})"}, mismatched,
          Msg(3, Event("ok", "gpt-4o-mini", 850, 320)), cut, Msg(5, bad_mode)});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->dead_letters.size(), 5u);
  EXPECT_EQ(p->dead_letters[0].offset, 0);
  EXPECT_EQ(p->dead_letters[0].reason, "malformed JSON at byte 1");
  EXPECT_EQ(p->dead_letters[1].reason,
            "provider is required; model is required; environment is required; data_mode is "
            "required; occurred_at is required; received_at is required");
  EXPECT_EQ(p->dead_letters[2].reason, "record key \"globex\" is not the event's workspace");
  EXPECT_EQ(p->dead_letters[3].offset, 4);
  EXPECT_EQ(p->dead_letters[3].reason, "malformed binary record: it ends inside a field");
  EXPECT_EQ(p->dead_letters[4].reason, "data_mode must be one of real, test, demo");
  EXPECT_EQ(p->dead_letters[0].kind, DeadLetterReason::kMalformed);
  EXPECT_EQ(p->dead_letters[1].kind, DeadLetterReason::kInvalidEvent);
  EXPECT_EQ(p->dead_letters[2].kind, DeadLetterReason::kWrongKey);
  EXPECT_EQ(p->dead_letters[3].kind, DeadLetterReason::kMalformed);
  EXPECT_EQ(p->dead_letters[4].kind, DeadLetterReason::kInvalidEvent);
  EXPECT_EQ(p->stats.dead_by_reason, (std::array<size_t, 5>{2, 2, 1, 0, 0}));
  ASSERT_TRUE(pipeline_->Commit(*p).ok());
  EXPECT_EQ(p->stats.counted, 1u);
  EXPECT_EQ(*store_->NextOffset("tokenmeter.events", 0), std::optional<int64_t>(6));
}

// A partition's batches reuse one event vector and parse buffer (BatchPipeline::Scratch):
// nothing of a batch, and nothing of a record refused half-parsed, may reach the next.
TEST_F(PipelineTest, ABatchCarriesNothingOfTheLastOneOnTheSamePartition) {
  BatchStats s1 = Apply({Msg(0, Event("a", "gpt-4o-mini", 850, 320)), Msg(1, Event("b", "gpt-4o-mini", 10, 10)),
                         ConsumedRecord{0, 2, "acme", R"({"v":1,"workspace":"acme","request_id":"x","model":"gpt-4o-mini"})"},
                         Msg(3, Event("c", "gpt-4o-mini", 100, 100))});
  EXPECT_EQ(s1.counted, 3u);
  EXPECT_EQ(s1.dead_lettered, 1u);
  UsageEvent w = Event("w", "gpt-4o-mini", 1000, 1000);
  ConsumedRecord wrong_key = Msg(4, w);  // parsed whole, then refused
  wrong_key.key = "globex";
  BatchStats s2 = Apply({wrong_key, Msg(5, Event("d", "gpt-4o-mini", 20, 0))});
  EXPECT_EQ(s2.consumed, 2u);
  EXPECT_EQ(s2.counted, 1u);
  EXPECT_EQ(s2.duplicates, 0u);
  EXPECT_EQ(s2.dead_lettered, 1u);
  EXPECT_EQ(Attempts("a"), 1u);
  EXPECT_EQ(Attempts("c"), 1u);
  EXPECT_EQ(Attempts("w"), 0u);
  EXPECT_EQ(Attempts("x"), 0u);
  RollupCounters t = Rollup(Granularity::kMinute, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 4);
  EXPECT_EQ(t.v[kInputTokens], 850 + 10 + 100 + 20);
  EXPECT_EQ(t.v[kCostNano], 319'500 + 7'500 + 75'000 + 3'000);
}

TEST_F(PipelineTest, UnknownModelsAreCountedAsUnpricedNeverAsZero) {
  UsageEvent e = Event("u", "acme-llm-9", 100, 100);
  e.provider = "acme";
  BatchStats s = Apply({Msg(0, e), Msg(1, Event("p", "gpt-4o-mini", 850, 320))});
  EXPECT_EQ(s.unpriced, 1u);
  RollupCounters t = Rollup(Granularity::kDay, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 2);
  EXPECT_EQ(t.v[kUnpriced], 1);
  EXPECT_EQ(t.v[kCostNano], 319'500);
  EXPECT_EQ(Rollup(Granularity::kDay, Dimension::kModel, "acme-llm-9").v[kUnpriced], 1);
}

}  // namespace
}  // namespace tokenmeter
