#include "workspace_view.h"

#include "spend_evaluator.h"

namespace tokenmeter {

Result<WorkspaceView> ReadWorkspaceView(const StateStore& store, const AlertRules& rules,
                                        std::string_view workspace, TimePoint now) {
  WorkspaceView v;
  for (const BudgetConfig* b : rules.BudgetsFor(workspace)) {
    BudgetView bv;
    bv.budget = b;
    bv.period_start = PeriodStart(now, b->period);
    Result<BudgetState> s = ReadBudgetState(store, BudgetStateKey(workspace, b->id, bv.period_start));
    if (!s.ok()) return s.status();
    bv.state = *s;
    // Judged against the budget as configured now, so a raised budget clears the flag.
    std::string_view state = BudgetStateName(CrossedLine(*b, bv.state.spend_nano));
    if (state == "warning") v.status.budget_warning = true;
    if (state == "exceeded") v.status.budget_exceeded = true;
    v.budgets.push_back(bv);
  }
  v.month_start = PeriodStart(now, BudgetPeriod::kMonth);
  v.plan = rules.PlanFor(workspace);
  if (v.plan) {
    Result<int64_t> used = ReadPlanUsage(store, PlanUsageKey(workspace, v.month_start));
    if (!used.ok()) return used.status();
    v.plan_requests = *used;
    if (v.plan_requests >= v.plan->requests_per_month) {
      v.status.plan_limit_reached = true;
      v.status.paused_until = PeriodEnd(v.month_start, BudgetPeriod::kMonth);
    }
  }
  return v;
}

}  // namespace tokenmeter
