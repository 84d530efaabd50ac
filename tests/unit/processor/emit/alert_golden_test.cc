// The alert JSON the processor emits, byte for byte, against tests/golden/alerts/*.json.
// e2e.json_schemas checks the same files against schemas/json/alert.schema.json with a
// third-party validator, so the code and the published schema cannot drift apart.
// TM_UPDATE_GOLDEN=1 rewrites the files from the code (then review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "evaluate/budget_tracker.h"
#include "evaluate/spend_evaluator.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

void ExpectGolden(const std::string& name, const std::string& json) {
  std::string path = std::string(TM_GOLDEN_DIR) + "/alerts/" + name;
  if (std::getenv("TM_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << json << "\n";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), json + "\n") << path;
}

TEST(AlertGoldenTest, BudgetWarningWithForecast) {
  BudgetConfig b;
  b.id = "monthly";
  b.workspace = "acme";
  b.project = "web";
  b.amount = *ParseDecimalUsd("500", 1000);
  b.thresholds_ppm = {500'000, 800'000};
  BudgetState s;
  TimePoint at = *ParseRfc3339("2026-11-10T12:00:00Z");
  std::optional<Alert> a = ApplyBudgetSpend(b, AlertingConfig{}, s, PeriodStart(at, b.period), at,
                                            *ParseDecimalUsd("400.000000123", 1000));
  ASSERT_TRUE(a.has_value());
  ExpectGolden("budget_warning.json", EncodeAlertJson(*a));
}

TEST(AlertGoldenTest, BudgetResolvedAfterARaise) {
  BudgetConfig b;
  b.id = "daily-web";
  b.workspace = "acme";
  b.period = BudgetPeriod::kDay;
  b.endpoint_tag = "checkout.ai_summary";
  b.amount = *ParseDecimalUsd("10", 1000);
  BudgetState s;
  TimePoint at = *ParseRfc3339("2026-11-10T12:00:00Z");
  TimePoint day = PeriodStart(at, b.period);
  ASSERT_TRUE(ApplyBudgetSpend(b, AlertingConfig{}, s, day, at, *ParseDecimalUsd("12.5", 1000)).has_value());
  b.amount = *ParseDecimalUsd("50", 1000);
  std::optional<Alert> a = EvaluateBudget(b, AlertingConfig{}, s, day, at + std::chrono::minutes(5));
  ASSERT_TRUE(a.has_value());
  ExpectGolden("budget_exceeded_resolved.json", EncodeAlertJson(*a));
}

TEST(AlertGoldenTest, PlanLimitReached) {
  PlanLimit plan{"acme", 1'000'000};
  TimePoint at = *ParseRfc3339("2026-11-20T08:30:00Z");
  ExpectGolden("plan_limit_reached.json",
               EncodeAlertJson(PlanLimitAlert(plan, PeriodStart(at, BudgetPeriod::kMonth), 1'000'000, at)));
}

}  // namespace
}  // namespace tokenmeter
