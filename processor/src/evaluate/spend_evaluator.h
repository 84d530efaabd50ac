// SpendEvaluator: one batch's budget and plan-limit accounting. For each new event it
// adds the cost to every matching budget's (budget, period) state and the request to the
// workspace's monthly plan usage, evaluates the state machines, and collects the alerts
// they decide. Finish() puts the touched state rows into the batch's WriteBatch, so a
// state change and the alert it decided are committed together with the spend and the
// offsets, or not at all.
//
// State family keys: "b" \0 ws \0 budget id \0 period start (8 bytes BE) -> BudgetState;
// "p" \0 ws \0 month start (8 bytes BE) -> requests (8 bytes LE).
// Thread: the pipeline's; one instance per batch.
#ifndef TOKENMETER_PROCESSOR_EVALUATE_SPEND_EVALUATOR_H_
#define TOKENMETER_PROCESSOR_EVALUATE_SPEND_EVALUATOR_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alert_rules.h"
#include "budget_tracker.h"
#include "state/state_store.h"

namespace tokenmeter {

std::string BudgetStateKey(std::string_view workspace, std::string_view budget, TimePoint period_start);
std::string PlanUsageKey(std::string_view workspace, TimePoint month_start);

// Reads stored state (a fresh state / 0 when absent).
Result<BudgetState> ReadBudgetState(const StateStore& store, const std::string& key);
Result<int64_t> ReadPlanUsage(const StateStore& store, const std::string& key);

// The plan-limit alert for a workspace's month.
Alert PlanLimitAlert(const PlanLimit& plan, TimePoint month_start, int64_t requests, TimePoint at);

class SpendEvaluator {
 public:
  SpendEvaluator(const StateStore& store, const AlertRules& rules) : store_(store), rules_(rules) {}

  // A new (not duplicate) event and its cost (nullopt: unpriced).
  Status Add(const UsageEvent& e, std::optional<NanoUsd> cost);
  // Puts the touched rows into `batch` and returns the decided alerts in decision order.
  std::vector<Alert> Finish(StateStore::Batch& batch);

 private:
  const StateStore& store_;
  const AlertRules& rules_;
  std::map<std::string, BudgetState> budgets_;
  std::map<std::string, int64_t> plans_;
  std::vector<Alert> alerts_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_EVALUATE_SPEND_EVALUATOR_H_
