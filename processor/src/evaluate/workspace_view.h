// WorkspaceView: a workspace's budgets and plan usage in the period holding `now`, read
// from the state family: what /v1/budgets and /v1/diagnostics/workspace-status show and
// what the processor publishes to the edges (WorkspaceStatus). Reads only; any thread.
#ifndef TOKENMETER_PROCESSOR_EVALUATE_WORKSPACE_VIEW_H_
#define TOKENMETER_PROCESSOR_EVALUATE_WORKSPACE_VIEW_H_

#include <string_view>
#include <vector>

#include "alert_rules.h"
#include "budget_tracker.h"
#include "state/state_store.h"
#include "tokenmeter/model/workspace_status.h"

namespace tokenmeter {

struct BudgetView {
  const BudgetConfig* budget = nullptr;
  TimePoint period_start;
  BudgetState state;
};

struct WorkspaceView {
  WorkspaceStatus status;
  std::vector<BudgetView> budgets;
  const PlanLimit* plan = nullptr;  // null: no plan limit
  TimePoint month_start;
  int64_t plan_requests = 0;
};

Result<WorkspaceView> ReadWorkspaceView(const StateStore& store, const AlertRules& rules,
                                        std::string_view workspace, TimePoint now);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_EVALUATE_WORKSPACE_VIEW_H_
