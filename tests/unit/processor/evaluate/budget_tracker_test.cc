// The budget state machine: one alert per line crossed per period (the highest when one
// step crosses several), reminders only after the repeat interval, a resolved notice and
// a new episode when a raised budget clears the condition, a fresh state per period, and
// the burn-rate forecast — all exact.
#include "evaluate/budget_tracker.h"

#include <gtest/gtest.h>

#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

TimePoint T(const char* s) { return *ParseRfc3339(s); }
NanoUsd Usd(const char* s) { return *ParseDecimalUsd(s, 1'000'000'000); }

BudgetConfig Budget(const char* amount, std::vector<uint32_t> thresholds) {
  BudgetConfig b;
  b.id = "monthly";
  b.workspace = "acme";
  b.amount = Usd(amount);
  b.thresholds_ppm = std::move(thresholds);
  return b;
}

class BudgetTrackerTest : public ::testing::Test {
 protected:
  // Spends `usd` at `at`; returns "" or "<type>/<status>" of the decided alert.
  std::string Spend(const BudgetConfig& b, BudgetState& s, const char* usd, TimePoint at) {
    std::optional<Alert> a = ApplyBudgetSpend(b, policy_, s, PeriodStart(at, b.period), at, Usd(usd));
    if (!a) return "";
    last_ = *a;
    return std::string(AlertTypeName(a->type)) + "/" + std::string(AlertStatusName(a->status));
  }
  AlertingConfig policy_;
  Alert last_;
};

TEST_F(BudgetTrackerTest, EachLineFiresOnceAndExactlyAtTheLine) {
  BudgetConfig b = Budget("10", {500'000, 800'000});
  BudgetState s;
  TimePoint t = T("2026-11-03T10:00:00Z");
  EXPECT_EQ(Spend(b, s, "4.999999999", t), "");
  EXPECT_EQ(BudgetStateName(s.crossed_ppm), "ok");
  EXPECT_EQ(Spend(b, s, "0.000000001", t), "budget_warning/firing");  // exactly 5.000000000
  EXPECT_EQ(last_.threshold, "5.000000000");
  EXPECT_EQ(last_.observed, "5.000000000");
  std::string first_warning = last_.id;
  EXPECT_EQ(Spend(b, s, "2.999999999", t), "");
  EXPECT_EQ(Spend(b, s, "0.000000001", t), "budget_warning/firing");  // exactly 8.0
  EXPECT_EQ(last_.threshold, "8.000000000");
  EXPECT_NE(last_.id, first_warning);
  EXPECT_EQ(BudgetStateName(s.crossed_ppm), "warning");
  EXPECT_EQ(Spend(b, s, "2", t), "budget_exceeded/firing");
  EXPECT_EQ(last_.severity, AlertSeverity::kCritical);
  EXPECT_EQ(last_.observed, "10.000000000");
  EXPECT_EQ(last_.message,
            "Budget \"monthly\" of workspace acme for 2026-11 (UTC): exceeded its limit of $10.00; "
            "spent $10.00 (100.0%). Projected spend for the period: $124.14.");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(Spend(b, s, "1", t), "");
  EXPECT_EQ(s.spend_nano, 110'000'000'000);
  EXPECT_EQ(s.requests, 105);
  EXPECT_EQ(BudgetStateName(s.crossed_ppm), "exceeded");
}

TEST_F(BudgetTrackerTest, OneStepOverSeveralLinesNotifiesOnlyTheHighest) {
  BudgetConfig b = Budget("10", {500'000, 800'000, 1'100'000});
  BudgetState s;
  TimePoint t = T("2026-11-03T10:00:00Z");
  EXPECT_EQ(Spend(b, s, "10.5", t), "budget_exceeded/firing");
  EXPECT_EQ(last_.threshold, "10.000000000");
  EXPECT_EQ(Spend(b, s, "0.5", t), "budget_exceeded/firing");  // the 1.1 line: 11.0
  EXPECT_EQ(last_.threshold, "11.000000000");
  EXPECT_EQ(Spend(b, s, "100", t), "");
}

TEST_F(BudgetTrackerTest, ANewPeriodStartsFreshWithNewIds) {
  BudgetConfig b = Budget("10", {800'000});
  BudgetState nov;
  EXPECT_EQ(Spend(b, nov, "12", T("2026-11-30T23:59:59.999Z")), "budget_exceeded/firing");
  std::string nov_id = last_.id;
  EXPECT_EQ(FormatRfc3339(last_.window_start), "2026-11-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(last_.window_end), "2026-12-01T00:00:00.000Z");
  EXPECT_EQ(PeriodStart(T("2026-12-01T00:00:00Z"), BudgetPeriod::kMonth), T("2026-12-01T00:00:00Z"));
  BudgetState dec;  // the pipeline keys state by period, so December starts from nothing
  EXPECT_EQ(Spend(b, dec, "7.99", T("2026-12-01T00:00:00Z")), "");
  EXPECT_EQ(Spend(b, dec, "4.01", T("2026-12-01T00:00:00Z")), "budget_exceeded/firing");
  EXPECT_NE(last_.id, nov_id);
  // Day budgets roll at 00:00 UTC.
  EXPECT_EQ(PeriodStart(T("2026-02-28T23:00:00Z"), BudgetPeriod::kDay), T("2026-02-28T00:00:00Z"));
  EXPECT_EQ(PeriodEnd(T("2026-02-01T00:00:00Z"), BudgetPeriod::kMonth), T("2026-03-01T00:00:00Z"));
  EXPECT_EQ(PeriodEnd(T("2026-12-01T00:00:00Z"), BudgetPeriod::kMonth), T("2027-01-01T00:00:00Z"));
}

TEST_F(BudgetTrackerTest, RaisingTheBudgetMidPeriodResolvesAndAReCrossingFiresAgain) {
  BudgetConfig b = Budget("10", {800'000});
  BudgetState s;
  TimePoint t = T("2026-11-10T00:00:00Z");
  EXPECT_EQ(Spend(b, s, "9", t), "budget_warning/firing");
  std::string warning_id = last_.id;
  b.amount = Usd("20");  // the operator raises the budget; the next event re-evaluates
  EXPECT_EQ(Spend(b, s, "0.01", t), "budget_warning/resolved");
  EXPECT_EQ(last_.severity, AlertSeverity::kInfo);
  EXPECT_NE(last_.id, warning_id);
  EXPECT_EQ(BudgetStateName(s.crossed_ppm), "ok");
  EXPECT_EQ(s.episode, 1u);
  EXPECT_EQ(Spend(b, s, "6.99", t), "budget_warning/firing");  // 16.00 = 0.8 of 20
  EXPECT_NE(last_.id, warning_id);
  b.amount = Usd("15");  // lowered below the spend: exceeded at once
  EXPECT_EQ(Spend(b, s, "0", t), "budget_exceeded/firing");
  // Without resolved notices the state still clears, silently.
  policy_.notify_resolved = false;
  b.amount = Usd("100");
  EXPECT_EQ(Spend(b, s, "0", t), "");
  EXPECT_EQ(BudgetStateName(s.crossed_ppm), "ok");
}

TEST_F(BudgetTrackerTest, RemindersOnlyAfterTheRepeatInterval) {
  policy_.repeat_interval = std::chrono::hours(1);
  BudgetConfig b = Budget("10", {800'000});
  BudgetState s;
  TimePoint t = T("2026-11-10T00:00:00Z");
  EXPECT_EQ(Spend(b, s, "11", t), "budget_exceeded/firing");
  std::string fired = last_.id;
  EXPECT_EQ(Spend(b, s, "1", t + std::chrono::minutes(59)), "");
  EXPECT_EQ(Spend(b, s, "1", t + std::chrono::minutes(60)), "budget_exceeded/reminder");
  EXPECT_NE(last_.id, fired);
  std::string reminder = last_.id;
  EXPECT_EQ(Spend(b, s, "1", t + std::chrono::minutes(90)), "");
  EXPECT_EQ(Spend(b, s, "1", t + std::chrono::minutes(121)), "budget_exceeded/reminder");
  EXPECT_NE(last_.id, reminder);
  EXPECT_EQ(s.reminders, 2u);
}

TEST_F(BudgetTrackerTest, TheSameHistoryDecidesTheSameIds) {
  BudgetConfig b = Budget("10", {800'000});
  BudgetState s1, s2;
  TimePoint t = T("2026-11-10T00:00:00Z");
  Spend(b, s1, "9", t);
  std::string a = last_.id;
  Spend(b, s2, "9", t + std::chrono::hours(3));  // a replay, later in wall time: same id
  EXPECT_EQ(last_.id, a);
  EXPECT_EQ(a.size(), 37u);
  EXPECT_EQ(a.rfind("alrt_", 0), 0u);
}

TEST_F(BudgetTrackerTest, ForecastExtrapolatesTheBurnRate) {
  BudgetConfig b = Budget("60", {800'000});
  BudgetState s;
  TimePoint start = T("2026-11-01T00:00:00Z");
  s.spend_nano = 10'000'000'000;  // $10 in the first 4 of 30 days: $2.50 a day
  BudgetForecast f = Forecast(b, s, start, T("2026-11-05T00:00:00Z"));
  EXPECT_EQ(f.projected.value, 75'000'000'000);
  ASSERT_TRUE(f.exhausts_at.has_value());
  EXPECT_EQ(FormatRfc3339(*f.exhausts_at), "2026-11-25T00:00:00.000Z");
  b.amount = Usd("100");  // $75 projected: not exhausted within the month
  EXPECT_FALSE(Forecast(b, s, start, T("2026-11-05T00:00:00Z")).exhausts_at.has_value());
  EXPECT_EQ(BudgetStatusJson(b, s, start, T("2026-11-05T00:00:00Z")),
            "{\"budget\":\"monthly\",\"period\":\"month\",\"periodStart\":\"2026-11-01T00:00:00.000Z\","
            "\"periodEnd\":\"2026-12-01T00:00:00.000Z\",\"scope\":{},\"limitUsd\":\"100.000000000\","
            "\"spendUsd\":\"10.000000000\",\"spendNanoUsd\":10000000000,\"requests\":0,"
            "\"utilization\":\"0.100000\",\"state\":\"ok\",\"thresholds\":[\"0.8\"],"
            "\"forecast\":{\"projectedSpendUsd\":\"75.000000000\",\"exhaustsAt\":null}}");
}

TEST_F(BudgetTrackerTest, ScopeAndDataModeDecideWhatCounts) {
  BudgetConfig b = Budget("10", {800'000});
  b.project = "web";
  b.environment = "prod";
  UsageEvent e = testing::TestEvent("acme", "r1", "gpt-4o-mini", 1, 1, T("2026-11-10T00:00:00Z"));
  e.project = "web";
  EXPECT_TRUE(BudgetMatches(b, e));
  e.data_mode = DataMode::kTest;
  EXPECT_FALSE(BudgetMatches(b, e));
  e.data_mode = DataMode::kReal;
  e.project = "api";
  EXPECT_FALSE(BudgetMatches(b, e));
  e.project = "web";
  e.workspace = "other";
  EXPECT_FALSE(BudgetMatches(b, e));
  e.workspace = "acme";
  e.environment = "staging";
  EXPECT_FALSE(BudgetMatches(b, e));
}

}  // namespace
}  // namespace tokenmeter
