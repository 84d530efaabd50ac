// Budget tracking for one (budget, period): spend so far, the highest line notified, and
// the state machine ok -> warning -> exceeded (DESIGN.md "Budgets, drift and alerts").
// One alert per line crossed per period; when one step crosses several lines only the
// highest is notified (a warning is inhibited by the exceeded it was overtaken by); one
// reminder per repeat interval of stream time while a line stays crossed; a resolved
// notice when the condition clears because the budget was raised. Periods are UTC
// calendar days or months; a new period starts from a fresh state.
// Pure functions over values; any thread.
#ifndef TOKENMETER_PROCESSOR_EVALUATE_BUDGET_TRACKER_H_
#define TOKENMETER_PROCESSOR_EVALUATE_BUDGET_TRACKER_H_

#include <optional>
#include <string>
#include <string_view>

#include "tokenmeter/model/alert.h"
#include "tokenmeter/model/usage_event.h"
#include "tokenmeter/processor/alerting_config.h"

namespace tokenmeter {

struct BudgetState {
  int64_t spend_nano = 0;
  int64_t requests = 0;
  uint32_t crossed_ppm = 0;     // highest line notified in this episode (0 = none)
  uint32_t episode = 0;         // +1 each time a condition clears, so a new crossing has a new id
  uint32_t reminders = 0;       // reminders sent for the current line
  int64_t last_notified_ms = 0;
  int64_t last_event_ms = 0;
  int64_t exceeded_at_ms = 0;   // stream time spend first reached the amount (0 = not yet)

  std::string Encode() const;
  static BudgetState Decode(std::string_view bytes);  // short or empty input: a fresh state
};

TimePoint PeriodStart(TimePoint t, BudgetPeriod p);
TimePoint PeriodEnd(TimePoint start, BudgetPeriod p);

// True if the event counts toward the budget (workspace, scope filters, data mode).
bool BudgetMatches(const BudgetConfig& b, const UsageEvent& e);

// "ok", "warning" or "exceeded" for the highest line crossed.
std::string_view BudgetStateName(uint32_t crossed_ppm);

// The highest line (thresholds and 1.0) that `spend` reaches for the budget; 0 if none.
uint32_t CrossedLine(const BudgetConfig& b, int64_t spend_nano);

struct BudgetForecast {
  NanoUsd projected;                   // spend at the period's end at the current rate
  std::optional<TimePoint> exhausts_at;  // when spend reaches the amount, if within the period
};
BudgetForecast Forecast(const BudgetConfig& b, const BudgetState& s, TimePoint period_start,
                        TimePoint as_of);

// Adds one call's cost (nullopt = unpriced: a request, no spend) at stream time `at`, then
// evaluates; returns the alert this decides, if any.
std::optional<Alert> ApplyBudgetSpend(const BudgetConfig& b, const AlertingConfig& policy,
                                      BudgetState& s, TimePoint period_start, TimePoint at,
                                      std::optional<NanoUsd> cost);

// Re-evaluates without new spend (a changed budget); the alert it decides, if any.
std::optional<Alert> EvaluateBudget(const BudgetConfig& b, const AlertingConfig& policy,
                                    BudgetState& s, TimePoint period_start, TimePoint at);

// The JSON object for the budget-status API and the alert details.
std::string BudgetStatusJson(const BudgetConfig& b, const BudgetState& s, TimePoint period_start,
                             TimePoint as_of);

// "0.8" for 800000 ppm: the shortest exact decimal.
std::string FormatPpm(uint32_t ppm);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_EVALUATE_BUDGET_TRACKER_H_
