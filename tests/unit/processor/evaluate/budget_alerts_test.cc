// Budgets inside the pipeline: a stream of 10,000 events crossing a budget decides exactly
// one warning and one exceeded alert for the period, committed with the spend (nothing
// before Commit, nothing twice on redelivery), each queued once per routed sink; the next
// period starts fresh; the plan limit decides one alert and pauses the workspace.
#include <gtest/gtest.h>

#include "emit/alert_store.h"
#include "evaluate/spend_evaluator.h"
#include "evaluate/workspace_view.h"
#include "pipeline.h"
#include "retention.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

const TimePoint kNov = *ParseRfc3339("2026-11-10T08:00:00.000Z");
const TimePoint kDec = *ParseRfc3339("2026-12-02T08:00:00.000Z");

class BudgetAlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AlertingConfig c;
    BudgetConfig b;
    b.id = "monthly";
    b.workspace = "acme";
    b.amount = *ParseDecimalUsd("2", 1000);  // default line 0.8
    c.budgets.push_back(b);
    c.plan_limits.push_back({"acme", 25'000});
    c.routes.push_back({"acme", "ops-hook", {}});
    c.routes.push_back({"acme", "oncall-mail", {"budget_exceeded"}});
    rules_ = std::make_shared<const AlertRules>(c);
    auto s = StateStore::Open(dir_.path().string(), ProcessorStateOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    dedup_ = std::move(*DedupIndex::Load(*store_));
    journal_ = std::move(*RollupJournal::Open(*store_));
    pipeline_ = std::make_unique<BatchPipeline>(*store_, *dedup_, *journal_, parser_, prices_, "tokenmeter.events", live_rules_ = std::make_shared<LiveRules>(rules_),
                                                &clock_);
    alerts_ = std::make_unique<AlertStore>(*store_);
  }

  // `n` gpt-4o-mini calls of 850/320 tokens (319,500 nano each) from offset `first`, in
  // batches of 500; returns the alerts decided.
  std::vector<Alert> Stream(int64_t first, int n, TimePoint at) {
    std::vector<Alert> decided;
    for (int64_t i = first; i < first + n; i += 500) {
      std::vector<ConsumedRecord> msgs;
      for (int64_t j = i; j < std::min<int64_t>(i + 500, first + n); ++j) {
        UsageEvent e = testing::TestEvent("acme", "req-" + std::to_string(j), "gpt-4o-mini", 850, 320,
                                          at + std::chrono::milliseconds(j - first));
        ConsumedRecord m{0, j, "acme", ""};
        EncodeCanonical(e, m.value);
        msgs.push_back(std::move(m));
      }
      Result<PreparedBatch> p = pipeline_->Prepare(0, msgs);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_TRUE(pipeline_->Commit(*p).ok());
      decided.insert(decided.end(), p->alerts.begin(), p->alerts.end());
    }
    return decided;
  }

  std::vector<AlertStore::Listed> Listed() {
    auto l = alerts_->List("acme", kNov - std::chrono::hours(24 * 40), kDec + std::chrono::hours(24 * 40), 1000);
    EXPECT_TRUE(l.ok());
    return *l;
  }

  testing::TempDir dir_{"tm-budget-alerts"};
  FakeClock clock_{*ParseRfc3339("2026-11-10T09:00:00.000Z")};
  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_{limits_, normalizer_};
  std::shared_ptr<const PriceBook> prices_ = std::make_shared<const PriceBook>(*PriceBook::FromEmbedded());
  std::shared_ptr<const AlertRules> rules_;
  std::shared_ptr<LiveRules> live_rules_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<DedupIndex> dedup_;
  std::unique_ptr<RollupJournal> journal_;
  std::unique_ptr<BatchPipeline> pipeline_;
  std::unique_ptr<AlertStore> alerts_;
};

TEST_F(BudgetAlertsTest, TenThousandEventsDecideOneWarningAndOneExceeded) {
  std::vector<Alert> decided = Stream(0, 10'000, kNov);
  // Warning at 1.6 USD: event 5,008 (5,008 x 319,500 = 1,600,056,000 nano); exceeded at
  // 2.0 USD: event 6,260 (2,000,070,000 nano).
  ASSERT_EQ(decided.size(), 2u);
  EXPECT_EQ(decided[0].type, AlertType::kBudgetWarning);
  EXPECT_EQ(decided[0].observed, "1.600056000");
  EXPECT_EQ(decided[0].threshold, "1.600000000");
  EXPECT_EQ(decided[0].at, kNov + std::chrono::milliseconds(5007));
  EXPECT_EQ(decided[1].type, AlertType::kBudgetExceeded);
  EXPECT_EQ(decided[1].observed, "2.000070000");
  EXPECT_EQ(decided[1].at, kNov + std::chrono::milliseconds(6259));

  std::vector<AlertStore::Listed> listed = Listed();
  ASSERT_EQ(listed.size(), 2u);  // newest first
  EXPECT_EQ(listed[0].alert_json, EncodeAlertJson(decided[1]));
  EXPECT_EQ(listed[1].alert_json, EncodeAlertJson(decided[0]));
  // The warning goes to the webhook only; the exceeded alert to both sinks.
  ASSERT_EQ(listed[1].deliveries.size(), 1u);
  EXPECT_EQ(listed[1].deliveries[0].sink, "ops-hook");
  ASSERT_EQ(listed[0].deliveries.size(), 2u);
  EXPECT_EQ(listed[0].deliveries[1].sink, "oncall-mail");
  EXPECT_EQ(listed[0].deliveries[1].state, DeliveryState::kPending);
  auto due = alerts_->Due("ops-hook", clock_.Now(), 100);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].alert_id, decided[0].id);
  EXPECT_EQ((*due)[0].alert_json, EncodeAlertJson(decided[0]));

  auto state = ReadBudgetState(*store_, BudgetStateKey("acme", "monthly", *ParseRfc3339("2026-11-01T00:00:00Z")));
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->spend_nano, 3'195'000'000);
  EXPECT_EQ(state->requests, 10'000);

  // Redelivery of the whole stream changes nothing and decides nothing.
  EXPECT_TRUE(Stream(0, 10'000, kNov).empty());
  EXPECT_EQ(Listed().size(), 2u);

  // December starts fresh: the same stream decides a new warning and exceeded pair.
  clock_.Set(kDec);
  std::vector<Alert> december = Stream(10'000, 10'000, kDec);
  ASSERT_EQ(december.size(), 2u);
  EXPECT_EQ(december[0].observed, "1.600056000");
  EXPECT_NE(december[0].id, decided[0].id);
  EXPECT_NE(december[1].id, decided[1].id);
  EXPECT_EQ(Listed().size(), 4u);
}

// A budget changed while its period runs (the admin API): the rules are replaced and the
// review evaluates its state at the clock's time with no new event.
TEST_F(BudgetAlertsTest, AChangedBudgetMovesItsStateAndAlertsWithoutAnEvent) {
  Stream(0, 4'000, kNov);  // 1.278 USD of the 2 USD budget: under the 0.8 line
  auto rules_with = [this](const char* amount) {
    AlertingConfig c = rules_->config();
    c.budgets[0].amount = *ParseDecimalUsd(amount, 1000);
    return std::make_shared<const AlertRules>(c);
  };
  // Lowered to 1 USD: exceeded at once, queued for both routed sinks, with its state.
  live_rules_->Replace(rules_with("1"));
  Result<PreparedBatch> lowered = pipeline_->PrepareBudgetReview("acme", "monthly");
  ASSERT_TRUE(lowered.ok()) << lowered.status().ToString();
  EXPECT_TRUE(Listed().empty());  // nothing before Commit
  ASSERT_TRUE(pipeline_->Commit(*lowered).ok());
  ASSERT_EQ(lowered->alerts.size(), 1u);
  const Alert& exceeded = lowered->alerts[0];
  EXPECT_EQ(exceeded.type, AlertType::kBudgetExceeded);
  EXPECT_EQ(exceeded.status, AlertStatus::kFiring);
  EXPECT_EQ(exceeded.observed, "1.278000000");
  EXPECT_EQ(exceeded.threshold, "1.000000000");
  EXPECT_EQ(exceeded.at, clock_.Now());
  ASSERT_EQ(Listed().size(), 1u);
  EXPECT_EQ(Listed()[0].deliveries.size(), 2u);
  auto state = ReadBudgetState(*store_, BudgetStateKey("acme", "monthly", *ParseRfc3339("2026-11-01T00:00:00Z")));
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->crossed_ppm, kExceededPpm);
  EXPECT_EQ(state->spend_nano, 1'278'000'000);
  // The same review again decides nothing (the line is already notified).
  Result<PreparedBatch> again = pipeline_->PrepareBudgetReview("acme", "monthly");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_changes);
  // Raised to 10 USD: resolved.
  live_rules_->Replace(rules_with("10"));
  Result<PreparedBatch> raised = pipeline_->PrepareBudgetReview("acme", "monthly");
  ASSERT_TRUE(raised.ok() && pipeline_->Commit(*raised).ok());
  ASSERT_EQ(raised->alerts.size(), 1u);
  EXPECT_EQ(raised->alerts[0].status, AlertStatus::kResolved);
  EXPECT_EQ(raised->alerts[0].type, AlertType::kBudgetExceeded);
  // A budget with no state in this store (another processor counts it), or unknown: nothing.
  EXPECT_FALSE(pipeline_->PrepareBudgetReview("globex", "monthly")->has_changes);
  EXPECT_FALSE(pipeline_->PrepareBudgetReview("acme", "nope")->has_changes);
}

TEST_F(BudgetAlertsTest, NothingIsDecidedOrQueuedBeforeCommit) {
  std::vector<ConsumedRecord> msgs;
  for (int j = 0; j < 7000; ++j) {
    UsageEvent e = testing::TestEvent("acme", "r" + std::to_string(j), "gpt-4o-mini", 850, 320, kNov);
    ConsumedRecord m{0, j, "acme", ""};
    EncodeCanonical(e, m.value);
    msgs.push_back(std::move(m));
  }
  Result<PreparedBatch> p = pipeline_->Prepare(0, msgs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->alerts.size(), 2u);
  EXPECT_TRUE(Listed().empty());  // a crash here loses nothing: the bus redelivers
  EXPECT_TRUE(alerts_->Due("ops-hook", clock_.Now(), 10)->empty());
  // Prepared again after the "crash": the same decisions, the same ids.
  Result<PreparedBatch> again = pipeline_->Prepare(0, msgs);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->alerts.size(), 2u);
  EXPECT_EQ(again->alerts[0].id, p->alerts[0].id);
  ASSERT_TRUE(pipeline_->Commit(*again).ok());
  EXPECT_EQ(Listed().size(), 2u);
}

TEST_F(BudgetAlertsTest, DeliveryOutcomesAndReplay) {
  std::vector<Alert> decided = Stream(0, 7000, kNov);
  ASSERT_EQ(decided.size(), 2u);
  auto due = alerts_->Due("oncall-mail", clock_.Now(), 10);
  ASSERT_EQ(due->size(), 1u);
  Delivery d = (*due)[0];
  d.attempts = 3;
  d.state = DeliveryState::kDead;
  d.last_error = "550 mailbox unavailable";
  d.done_ms = clock_.Now().time_since_epoch().count();
  ASSERT_TRUE(alerts_->Record(d).ok());
  EXPECT_TRUE(alerts_->Due("oncall-mail", clock_.Now(), 10)->empty());
  auto depth = alerts_->Depth();
  EXPECT_EQ(depth->dead, 1u);
  EXPECT_EQ(depth->pending, 2u);
  // Delivered leaves the queue and stays visible.
  Delivery w = (*alerts_->Due("ops-hook", clock_.Now(), 10))[0];
  w.state = DeliveryState::kDelivered;
  w.attempts = 1;
  ASSERT_TRUE(alerts_->Record(w).ok());
  EXPECT_EQ(alerts_->Depth()->pending, 1u);
  std::vector<AlertStore::Listed> listed = Listed();
  EXPECT_EQ(listed[1].deliveries[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(listed[0].deliveries[1].state, DeliveryState::kDead);
  EXPECT_EQ(listed[0].deliveries[1].last_error, "550 mailbox unavailable");

  const int64_t decided_ms = clock_.Now().time_since_epoch().count();
  auto queued = alerts_->Replay("acme", decided[1].id, clock_.Now());
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, std::vector<std::string>{"oncall-mail"});  // the webhook copy is still pending
  auto again = alerts_->Due("oncall-mail", clock_.Now(), 10);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 0u);
  EXPECT_EQ((*again)[0].alert_id, decided[1].id);
  // Both copies delivered, nothing waits; a replay two hours on waits from then, not from
  // when the alert was decided (the outbox's age gauge reads this).
  for (const char* sink : {"oncall-mail", "ops-hook"}) {
    Delivery done = (*alerts_->Due(sink, clock_.Now(), 10))[0];
    done.state = DeliveryState::kDelivered;
    ASSERT_TRUE(alerts_->Record(done).ok());
  }
  EXPECT_EQ(alerts_->Depth()->oldest_pending_queued_ms, 0);
  clock_.Advance(std::chrono::hours(2));
  const int64_t replayed_ms = clock_.Now().time_since_epoch().count();
  ASSERT_TRUE(alerts_->Replay("acme", decided[1].id, clock_.Now()).ok());
  again = alerts_->Due("oncall-mail", clock_.Now(), 10);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].created_ms, decided_ms) << "still the alert's decision time";
  EXPECT_EQ((*again)[0].queued_ms, replayed_ms);
  EXPECT_EQ(alerts_->Depth()->oldest_pending_queued_ms, replayed_ms);
  EXPECT_EQ(alerts_->Replay("other", decided[1].id, clock_.Now()).status().code(), Code::kNotFound);
}

TEST_F(BudgetAlertsTest, PlanLimitDecidesOneAlertAndPausesTheWorkspace) {
  Stream(0, 24'999, kNov);
  auto v = ReadWorkspaceView(*store_, *rules_, "acme", clock_.Now());
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->status.plan_limit_reached);
  EXPECT_TRUE(v->status.budget_exceeded);
  std::vector<Alert> decided = Stream(24'999, 2, kNov);
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].type, AlertType::kPlanLimitReached);
  EXPECT_EQ(decided[0].observed, "25000");
  v = ReadWorkspaceView(*store_, *rules_, "acme", clock_.Now());
  EXPECT_TRUE(v->status.plan_limit_reached);
  EXPECT_EQ(v->plan_requests, 25'001);
  EXPECT_EQ(FormatRfc3339(v->status.paused_until), "2026-12-01T00:00:00.000Z");
  clock_.Set(kDec);  // a new month: not paused, no budget flags
  v = ReadWorkspaceView(*store_, *rules_, "acme", clock_.Now());
  EXPECT_EQ(v->status, WorkspaceStatus{});
}

// A plan limit lowered under the month's requests (the admin API): the review pauses the
// workspace and decides the plan alert once; a plan already alerted this month is not again.
TEST_F(BudgetAlertsTest, APlanLoweredUnderTheMonthsRequestsAlertsOnce) {
  Stream(0, 1'000, kNov);
  AlertingConfig c = rules_->config();
  c.plan_limits[0].requests_per_month = 400;
  live_rules_->Replace(std::make_shared<const AlertRules>(c));
  auto v = ReadWorkspaceView(*store_, *live_rules_->Current(), "acme", clock_.Now());
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->status.plan_limit_reached);
  Result<PreparedBatch> review = pipeline_->PreparePlanReview("acme");
  ASSERT_TRUE(review.ok() && pipeline_->Commit(*review).ok());
  ASSERT_EQ(review->alerts.size(), 1u);
  EXPECT_EQ(review->alerts[0].type, AlertType::kPlanLimitReached);
  EXPECT_EQ(review->alerts[0].observed, "1000");
  EXPECT_EQ(review->alerts[0].threshold, "400");
  EXPECT_EQ(Listed().size(), 1u);
  EXPECT_FALSE(pipeline_->PreparePlanReview("acme")->has_changes);  // once a month
  c.plan_limits[0].requests_per_month = 300;
  live_rules_->Replace(std::make_shared<const AlertRules>(c));
  EXPECT_FALSE(pipeline_->PreparePlanReview("acme")->has_changes);  // lowered again: the month's alert stands
  c.plan_limits.clear();
  live_rules_->Replace(std::make_shared<const AlertRules>(c));
  EXPECT_FALSE(pipeline_->PreparePlanReview("acme")->has_changes);  // removed
  EXPECT_FALSE(ReadWorkspaceView(*store_, *live_rules_->Current(), "acme", clock_.Now())->status.plan_limit_reached);
}

}  // namespace
}  // namespace tokenmeter
