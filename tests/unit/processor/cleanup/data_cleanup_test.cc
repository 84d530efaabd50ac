// Cleanup commands through the pipeline on a real RocksDB: the rows they remove leave
// every rollup row (each granularity and dimension, latency buckets and retries) exactly
// as if they had never been sent, their ids count as new afterwards, the "mine" scope
// touches only the listed keys' rows, and a command is applied once.
#include <gtest/gtest.h>

#include <map>

#include "cleanup/data_cleanup.h"
#include "../pipeline_fixture.h"
#include "tokenmeter/model/cleanup_command.h"

namespace tokenmeter {
namespace {

class CleanupTest : public PipelineTest {
 protected:
  // Every stored rollup row with something in it, after a fold.
  std::map<std::string, RollupCounters> Rollups() {
    EXPECT_TRUE(journal_->Fold().ok());
    std::map<std::string, RollupCounters> out;
    EXPECT_TRUE(store_
                    ->Scan(Family::kRollups, std::string(), std::string(1, '\xff'),
                           [&](std::string_view k, std::string_view v) {
                             RollupCounters c = RollupCounters::Decode(v);
                             bool empty = c.latency.buckets.empty();
                             for (int64_t x : c.v) empty = empty && x == 0;
                             if (!empty) out.emplace(std::string(k), c);
                             return true;
                           })
                    .ok());
    return out;
  }
  static UsageEvent Sent(const std::string& id, DataMode mode, const std::string& key_id, uint32_t latency,
                         const std::string& model = "gpt-4o-mini") {
    UsageEvent e = Event(id, model, 850, 320);
    e.data_mode = mode;
    e.api_key_id = key_id;
    e.latency_ms = latency;
    e.user_id = "u-" + key_id;
    return e;
  }
  static ConsumedRecord Command(int64_t offset, const CleanupCommand& c, const std::string& key = "acme") {
    ConsumedRecord m{0, offset, key, ""};
    EncodeCleanupCommand(c, m.value);
    return m;
  }
  static CleanupCommand Cleanup(const std::string& id, DataMode mode, std::vector<std::string> keys = {}) {
    CleanupCommand c;
    c.id = id;
    c.workspace = "acme";
    c.mode = mode;
    c.scope = keys.empty() ? CleanupScope::kWorkspace : CleanupScope::kMine;
    c.key_ids = std::move(keys);
    c.requested_by = "ADMIN0000001";
    c.issued_ms = kT.time_since_epoch().count();
    return c;
  }
  PreparedBatch ApplyCommand(const ConsumedRecord& m) {
    Result<PreparedBatch> p = pipeline_->PrepareCommand(0, m);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_TRUE(pipeline_->Commit(*p).ok());
    return std::move(*p);
  }
  std::string Outcome(const std::string& id) {
    auto row = store_->Get(Family::kMeta, CleanupResultKey("acme", id));
    return row.ok() && row->has_value() ? **row : "";
  }
};

TEST_F(CleanupTest, RemovedRowsLeaveEveryRollupAsIfNeverSent) {
  UsageEvent real = Sent("real", DataMode::kReal, "KEYA00000001", 640);
  Apply({Msg(0, real), Msg(1, real)});  // a real call and its retry
  const std::map<std::string, RollupCounters> before = Rollups();

  // Demo rows of two keys (one unpriced, one a retry without a time of its own, received
  // later) and a test row, in the real call's minute and the next.
  UsageEvent d1 = Sent("d1", DataMode::kDemo, "KEYA00000001", 90);
  UsageEvent d2 = Sent("d2", DataMode::kDemo, "KEYB00000001", 4000, "acme-llm-9");
  d2.occurred_at += std::chrono::minutes(1);
  UsageEvent d3 = Sent("d3", DataMode::kDemo, "KEYA00000001", 1200);
  d3.occurred_at_defaulted = true;
  UsageEvent d3_later = d3;
  d3_later.received_at += std::chrono::minutes(7);
  d3_later.occurred_at = d3_later.received_at;
  UsageEvent t1 = Sent("t1", DataMode::kTest, "KEYA00000001", 300);
  BatchStats s = Apply({Msg(2, d1), Msg(3, d2), Msg(4, d3), Msg(5, d1), Msg(6, d3_later), Msg(7, t1)});
  ASSERT_EQ(s.counted, 4u);
  ASSERT_EQ(s.duplicates, 2u);
  ASSERT_NE(Rollups(), before);

  PreparedBatch demo = ApplyCommand(Command(8, Cleanup("cl_demo", DataMode::kDemo)));
  EXPECT_TRUE(demo.dead_letters.empty());
  EXPECT_NE(Outcome("cl_demo").find(R"("removedEvents":3,"removedRetries":2})"), std::string::npos) << Outcome("cl_demo");
  ApplyCommand(Command(9, Cleanup("cl_test", DataMode::kTest)));
  EXPECT_NE(Outcome("cl_test").find(R"("removedEvents":1,"removedRetries":0})"), std::string::npos);
  EXPECT_EQ(Rollups(), before) << "every row as before the demo and test rows were sent";
  EXPECT_EQ(Attempts("real"), 2u);
  EXPECT_FALSE(Dedup("d1").record) << "the id's record is gone";
  // The ids are new calls when sent again.
  EXPECT_EQ(Apply({Msg(10, d1)}).counted, 1u);
  EXPECT_EQ(Attempts("d1"), 1u);
}

TEST_F(CleanupTest, MineRemovesOnlyTheListedKeysRows) {
  Apply({Msg(0, Sent("a", DataMode::kTest, "KEYA00000001", 100)), Msg(1, Sent("b", DataMode::kTest, "KEYB00000001", 100)),
         Msg(2, Sent("c", DataMode::kTest, "KEYC00000001", 100))});
  ApplyCommand(Command(3, Cleanup("cl_mine", DataMode::kTest, {"KEYA00000001", "KEYC00000001"})));
  EXPECT_NE(Outcome("cl_mine").find(R"("scope":"mine")"), std::string::npos);
  EXPECT_NE(Outcome("cl_mine").find(R"("removedEvents":2,)"), std::string::npos) << Outcome("cl_mine");
  EXPECT_FALSE(Dedup("a").record);
  EXPECT_TRUE(Dedup("b").record) << "another owner's row stays";
  EXPECT_FALSE(Dedup("c").record);
  RollupCounters t = Rollup(Granularity::kDay, Dimension::kTotal, "");
  EXPECT_EQ(t.v[kRequests], 0) << "real rows: none were sent";
}

TEST_F(CleanupTest, ACommandIsAppliedOnceAndABadOneIsDeadLettered) {
  Apply({Msg(0, Sent("d", DataMode::kDemo, "KEYA00000001", 100))});
  const ConsumedRecord command = Command(1, Cleanup("cl_once", DataMode::kDemo));
  ApplyCommand(command);
  const std::string first = Outcome("cl_once");
  ASSERT_NE(first.find(R"("removedEvents":1,)"), std::string::npos);
  PreparedBatch again = ApplyCommand(command);  // redelivered
  EXPECT_EQ(again.stats.redelivered, 1u);
  EXPECT_FALSE(again.has_changes);
  EXPECT_EQ(Outcome("cl_once"), first);

  PreparedBatch wrong = ApplyCommand(Command(2, Cleanup("cl_wrong", DataMode::kDemo), "globex"));
  ASSERT_EQ(wrong.dead_letters.size(), 1u);
  EXPECT_EQ(wrong.dead_letters[0].kind, DeadLetterReason::kWrongKey);
  ConsumedRecord bad{0, 3, "acme", std::string("\xC2\x07", 2)};
  PreparedBatch malformed = ApplyCommand(bad);
  ASSERT_EQ(malformed.dead_letters.size(), 1u);
  EXPECT_EQ(malformed.dead_letters[0].kind, DeadLetterReason::kMalformed);
  EXPECT_EQ(*store_->NextOffset("tokenmeter.events", 0), std::optional<int64_t>(4)) << "each passed once";
  EXPECT_EQ(Outcome("cl_wrong"), "");
}

}  // namespace
}  // namespace tokenmeter
