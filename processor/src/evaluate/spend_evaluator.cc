#include "spend_evaluator.h"

#include "state/fixed_codec.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {

std::string BudgetStateKey(std::string_view workspace, std::string_view budget, TimePoint period_start) {
  std::string k = "b";
  k.push_back('\0');
  k.append(workspace);
  k.push_back('\0');
  k.append(budget);
  k.push_back('\0');
  AppendBigEndian(k, static_cast<uint64_t>(period_start.time_since_epoch().count()));
  return k;
}

std::string PlanUsageKey(std::string_view workspace, TimePoint month_start) {
  std::string k = "p";
  k.push_back('\0');
  k.append(workspace);
  k.push_back('\0');
  AppendBigEndian(k, static_cast<uint64_t>(month_start.time_since_epoch().count()));
  return k;
}

Result<BudgetState> ReadBudgetState(const StateStore& store, const std::string& key) {
  Result<std::optional<std::string>> v = store.Get(Family::kState, key);
  if (!v.ok()) return v.status();
  return v->has_value() ? BudgetState::Decode(**v) : BudgetState{};
}

Result<int64_t> ReadPlanUsage(const StateStore& store, const std::string& key) {
  Result<std::optional<std::string>> v = store.Get(Family::kState, key);
  if (!v.ok()) return v.status();
  return v->has_value() ? ((*v)->size() >= 8 ? GetFixed64(**v, 0) : 0) : int64_t{0};
}

Alert PlanLimitAlert(const PlanLimit& plan, TimePoint month_start, int64_t requests, TimePoint at) {
  Alert a;
  a.workspace = plan.workspace;
  a.type = AlertType::kPlanLimitReached;
  a.status = AlertStatus::kFiring;
  a.severity = AlertSeverity::kCritical;
  std::string month = FormatRfc3339(month_start);
  a.id = AlertId({plan.workspace, AlertTypeName(a.type), "plan", month});
  a.scope.emplace_back("plan", "requests_per_month");
  a.window_start = month_start;
  a.window_end = PeriodEnd(month_start, BudgetPeriod::kMonth);
  a.unit = "requests";
  a.observed = std::to_string(requests);
  a.threshold = std::to_string(plan.requests_per_month);
  a.at = at;
  a.message = "Workspace " + plan.workspace + " reached its plan limit of " +
              std::to_string(plan.requests_per_month) + " requests for " + month.substr(0, 7) +
              " (UTC). Ingest answers 402 (telemetry paused) until " +
              FormatRfc3339(a.window_end).substr(0, 10) + "; the application's model calls are not affected.";
  return a;
}

Status SpendEvaluator::Add(const UsageEvent& e, std::optional<NanoUsd> cost) {
  for (const BudgetConfig* b : rules_.BudgetsFor(e.workspace)) {
    if (!BudgetMatches(*b, e)) continue;
    TimePoint start = PeriodStart(e.occurred_at, b->period);
    std::string key = BudgetStateKey(b->workspace, b->id, start);
    auto it = budgets_.find(key);
    if (it == budgets_.end()) {
      Result<BudgetState> loaded = ReadBudgetState(store_, key);
      if (!loaded.ok()) return loaded.status();
      it = budgets_.emplace(key, *loaded).first;
    }
    std::optional<Alert> a = ApplyBudgetSpend(*b, rules_.config(), it->second, start, e.occurred_at, cost);
    if (a) alerts_.push_back(std::move(*a));
  }
  if (const PlanLimit* plan = rules_.PlanFor(e.workspace)) {
    TimePoint month = PeriodStart(e.occurred_at, BudgetPeriod::kMonth);
    std::string key = PlanUsageKey(e.workspace, month);
    auto it = plans_.find(key);
    if (it == plans_.end()) {
      Result<int64_t> loaded = ReadPlanUsage(store_, key);
      if (!loaded.ok()) return loaded.status();
      it = plans_.emplace(key, *loaded).first;
    }
    if (++it->second == plan->requests_per_month) {
      alerts_.push_back(PlanLimitAlert(*plan, month, it->second, e.occurred_at));
    }
  }
  return Status::Ok();
}

std::vector<Alert> SpendEvaluator::Finish(StateStore::Batch& batch) {
  for (const auto& [k, s] : budgets_) batch.Put(Family::kState, k, s.Encode());
  for (const auto& [k, n] : plans_) {
    std::string count;
    PutFixed64(count, n);
    batch.Put(Family::kState, k, count);
  }
  return std::move(alerts_);
}

}  // namespace tokenmeter
