// The pipeline's dedup decisions over time and content: the dedup window, copies with
// and without a timestamp of their own, a reused id with other content, and a stored
// record that cannot be read. Real RocksDB in a temp dir (pipeline_fixture.h).
#include <gtest/gtest.h>

#include "pipeline_fixture.h"

namespace tokenmeter {
namespace {

TEST_F(PipelineTest, ACopyPastTheDedupWindowIsANewCallAndOneAtItsEdgeIsARetry) {
  // Default window: 35 days from the id's first sighting (its first copy's receive time).
  UsageEvent a = Event("a", "gpt-4o-mini", 850, 320);  // 319,500 nano-USD
  EXPECT_EQ(Apply({Msg(0, a)}).counted, 1u);
  UsageEvent at_edge = a;
  at_edge.received_at = kT + std::chrono::days(35);
  BatchStats s = Apply({Msg(1, at_edge)});
  EXPECT_EQ(s.counted, 0u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(Attempts("a"), 2u);
  UsageEvent past = a;
  past.received_at = kT + std::chrono::days(35) + std::chrono::milliseconds(1);
  UsageEvent past_retry = past;
  past_retry.received_at = past.received_at + std::chrono::seconds(1);
  s = Apply({Msg(2, past), Msg(3, past_retry)});
  EXPECT_EQ(s.counted, 1u) << "first seen more than 35 days before: a new call";
  EXPECT_EQ(s.duplicates, 1u) << "and its own retry is a duplicate of it";
  EXPECT_EQ(s.conflicts, 0u);
  EXPECT_EQ(Attempts("a"), 2u) << "the record starts over";
  DedupChoice v = Dedup("a");
  ASSERT_TRUE(v.record);
  EXPECT_EQ(v.record->first_seen_ms, past.received_at.time_since_epoch().count());
  RollupCounters day = Rollup(Granularity::kDay, Dimension::kTotal, "");
  EXPECT_EQ(day.v[kRequests], 2);
  EXPECT_EQ(day.v[kDuplicates], 2);
  EXPECT_EQ(day.v[kCostNano], 639'000);
}

TEST_F(PipelineTest, CopiesWithoutATimestampAreOneCallWheneverEachWasReceived) {
  // As the edge parses them: a CostLynx-style body has no timestamp, so each copy's event
  // time is its own receive time. Copies 2.5 s, 7 min and 3 days apart (one after a
  // restart, two in one batch) are retries of one call; only other content conflicts.
  IngestContext ctx;
  ctx.workspace = "acme";
  ctx.api_key_id = "KEYID0000001";
  auto copy = [&](std::chrono::milliseconds after, uint64_t input_tokens = 850) {
    std::string body = R"({"requestId":"no-ts","provider":"openai","model":"gpt-4o-mini",)"
                       R"("inputTokens":)" + std::to_string(input_tokens) + R"(,"outputTokens":320})";
    ctx.received_at = kT + after;
    ParsedBody parsed = parser_.ParseIngest(body, ctx);
    EXPECT_EQ(parsed.events.size(), 1u);
    UsageEvent e = parsed.events.at(0);
    EXPECT_TRUE(e.occurred_at_defaulted);
    EXPECT_EQ(e.occurred_at, kT + after);
    return e;
  };
  using std::chrono::milliseconds;
  BatchStats s = Apply({Msg(0, copy(milliseconds(0))), Msg(1, copy(milliseconds(2500)))});
  EXPECT_EQ(s.counted, 1u);
  EXPECT_EQ(s.duplicates, 1u);
  Reopen();
  s = Apply({Msg(2, copy(std::chrono::minutes(7)))});
  EXPECT_EQ(s.duplicates, 1u);
  Result<PreparedBatch> p = pipeline_->Prepare(
      0, {Msg(3, copy(std::chrono::days(3))), Msg(4, copy(std::chrono::days(3), 851))});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(pipeline_->Commit(*p).ok());
  EXPECT_EQ(p->stats.counted, 0u);
  EXPECT_EQ(p->stats.duplicates, 1u);
  EXPECT_EQ(p->stats.conflicts, 1u) << "851 input tokens is another call under the same id";
  ASSERT_EQ(p->dead_letters.size(), 1u) << "only the true conflict is dead-lettered";
  EXPECT_EQ(p->dead_letters[0].offset, 4);
  EXPECT_EQ(Attempts("no-ts"), 4u) << "the first copy and three retries; the conflict is another call";
  DedupChoice d = Dedup("no-ts");
  ASSERT_TRUE(d.record);
  EXPECT_EQ(d.record->first_seen_ms, kT.time_since_epoch().count()) << "the first copy stands for the id";
  RollupCounters t = Rollup(Granularity::kMinute, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 1);
  EXPECT_EQ(t.v[kDuplicates], 3);
  EXPECT_EQ(t.v[kInputTokens], 850);
  EXPECT_EQ(t.v[kCostNano], 319'500);
}

TEST_F(PipelineTest, AGivenTimeIsContentAndADefaultedOneIsNot) {
  UsageEvent timed = Event("t", "gpt-4o-mini", 850, 320);  // a client time, kT
  UsageEvent untimed = timed;
  untimed.occurred_at_defaulted = true;  // the same instant, but not given by the client
  BatchStats s = Apply({Msg(0, timed), Msg(1, untimed)});
  EXPECT_EQ(s.counted, 1u);
  EXPECT_EQ(s.conflicts, 1u) << "a copy that drops the time the original gave is not the same call";
  UsageEvent later = timed;
  later.received_at = kT + std::chrono::minutes(5);
  EXPECT_EQ(Apply({Msg(2, later)}).duplicates, 1u) << "the given time is the same: a retry";
  later.occurred_at += std::chrono::seconds(1);
  EXPECT_EQ(Apply({Msg(3, later)}).conflicts, 1u) << "another given time: another call";
  EXPECT_EQ(Attempts("t"), 2u) << "conflicts are other calls, not attempts of this one";
}

TEST_F(PipelineTest, SameIdWithDifferentContentIsAConflictNotAppliedAndQuarantined) {
  Apply({Msg(0, Event("a", "gpt-4o-mini", 850, 320))});
  ConsumedRecord reused = Msg(1, Event("a", "gpt-4o-mini", 999999, 320));
  Result<PreparedBatch> p = pipeline_->Prepare(0, {reused, Msg(2, Event("b", "gpt-4o-mini", 10, 10))});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(pipeline_->Commit(*p).ok());
  EXPECT_EQ(p->stats.conflicts, 1u);
  EXPECT_EQ(p->stats.duplicates, 0u) << "another call under a used id is no retry";
  EXPECT_EQ(p->stats.counted, 1u);
  // The differing payload goes to the dead-letter topic whole, so it can be inspected.
  ASSERT_EQ(p->dead_letters.size(), 1u);
  EXPECT_EQ(p->dead_letters[0].offset, 1);
  EXPECT_EQ(p->dead_letters[0].value, reused.value);
  EXPECT_EQ(p->dead_letters[0].kind, DeadLetterReason::kConflict);
  EXPECT_EQ(p->dead_letters[0].reason,
            "request_id \"a\" was first recorded with other content; this copy is not applied");
  EXPECT_EQ(p->stats.dead_lettered, 1u);
  EXPECT_EQ(p->stats.dead_by_reason[static_cast<size_t>(DeadLetterReason::kConflict)], 1u);
  EXPECT_EQ(Rollup(Granularity::kHour, Dimension::kTotal, "").v[kInputTokens], 860);
  EXPECT_EQ(Rollup(Granularity::kHour, Dimension::kTotal, "").v[kRequests], 2);
  EXPECT_EQ(Attempts("a"), 1u) << "the conflict is not an attempt of a";
  EXPECT_EQ(*store_->NextOffset("tokenmeter.events", 0), std::optional<int64_t>(3));
}

TEST_F(PipelineTest, AnIdWhoseStoredRecordCannotBeReadIsQuarantinedNeverCountedAgain) {
  Apply({Msg(0, Event("a", "gpt-4o-mini", 850, 320))});
  // A dedup row no build can decode (an unknown version byte), as a damaged or
  // downgraded store would hold: the event it stands for may already be counted.
  const std::string damaged("\x7f\x01\x02", 3);
  const std::string stored_under = Dedup("a").key;
  ASSERT_FALSE(stored_under.empty());
  StateStore::Batch b = store_->NewBatch();
  b.Put(Family::kDedup, stored_under, damaged);
  ASSERT_TRUE(store_->Commit(b).ok());

  UsageEvent retry = Event("a", "gpt-4o-mini", 850, 320);
  retry.received_at = kT + std::chrono::seconds(2);
  Result<PreparedBatch> p =
      pipeline_->Prepare(0, {Msg(1, retry), Msg(2, retry), Msg(3, Event("b", "gpt-4o-mini", 10, 10))});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(pipeline_->Commit(*p).ok());
  EXPECT_EQ(p->stats.counted, 1u);  // only "b"
  EXPECT_EQ(p->stats.duplicates, 0u);
  ASSERT_EQ(p->dead_letters.size(), 2u);  // both copies of "a"
  EXPECT_EQ(p->dead_letters[0].offset, 1);
  EXPECT_EQ(p->dead_letters[1].offset, 2);
  EXPECT_EQ(p->dead_letters[0].kind, DeadLetterReason::kUnreadableRecord);
  EXPECT_EQ(p->dead_letters[0].reason,
            "the stored dedup record of request_id \"a\" cannot be read (3 bytes); event not applied");
  EXPECT_EQ(p->stats.dead_by_reason[static_cast<size_t>(DeadLetterReason::kUnreadableRecord)], 2u);
  EXPECT_EQ(p->stats.dead_lettered, 2u);
  RollupCounters t = Rollup(Granularity::kDay, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 2);  // "a" once, from offset 0, and "b"
  EXPECT_EQ(t.v[kInputTokens], 860);
  EXPECT_EQ(t.v[kDuplicates], 0);
  EXPECT_EQ(**store_->Get(Family::kDedup, stored_under), damaged) << "the stored row is kept";
  EXPECT_EQ(*store_->NextOffset("tokenmeter.events", 0), std::optional<int64_t>(4));
}

// What an edge in the same process answers with: one outcome per record consumed, in
// offset order from the first one not redelivered.
TEST_F(PipelineTest, EachConsumedRecordsOutcomeIsReportedInOffsetOrder) {
  ASSERT_EQ(Apply({Msg(0, Event("a", "gpt-4o-mini", 850, 320))}).counted, 1u);
  Result<PreparedBatch> p = pipeline_->Prepare(
      0, {Msg(0, Event("a", "gpt-4o-mini", 850, 320)),    // redelivered: not reported
          Msg(1, Event("a", "gpt-4o-mini", 850, 320)),    // a retry
          Msg(2, Event("a", "gpt-4o-mini", 851, 320)),    // the id with other content
          ConsumedRecord{0, 3, "acme", "not json"},       // dead-lettered
          Msg(4, Event("b", "acme-llm-9", 10, 10)),       // new, no price
          Msg(5, Event("c", "gpt-4o-mini", 1, 1))});      // new
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->stats.applied.size(), 1u);
  const BatchStats::Applied& a = p->stats.applied[0];
  EXPECT_EQ(a.partition, 0);
  EXPECT_EQ(a.first_offset, 1);
  EXPECT_EQ(a.outcomes, (std::vector<RecordOutcome>{{RecordVerdict::kSkipped, false},
                                                    {RecordVerdict::kConflict, false},
                                                    {RecordVerdict::kRejected, false},
                                                    {RecordVerdict::kInserted, true},
                                                    {RecordVerdict::kInserted, false}}));
}

}  // namespace
}  // namespace tokenmeter
