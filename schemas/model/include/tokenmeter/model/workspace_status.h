// WorkspaceStatus: what the processor tells the edges about a workspace (DESIGN.md
// "Budgets, drift and alerts"): whether its plan limit pauses telemetry, and whether a
// budget of the current period is in warning or exceeded. The edges answer 402 while
// paused and carry the budget flags in every 202. Crosses processes as one JSON record
// per workspace (key = workspace) on a compacted topic; in `serve` it is handed over in
// process. Pure value code; any thread.
#ifndef TOKENMETER_MODEL_WORKSPACE_STATUS_H_
#define TOKENMETER_MODEL_WORKSPACE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>

#include "tokenmeter/base/clock.h"

namespace tokenmeter {

struct WorkspaceStatus {
  bool plan_limit_reached = false;
  TimePoint paused_until{};  // start of the next plan period while the limit is reached
  bool budget_warning = false;
  bool budget_exceeded = false;
  friend bool operator==(const WorkspaceStatus&, const WorkspaceStatus&) = default;
};

std::string EncodeWorkspaceStatus(const WorkspaceStatus& s);
std::optional<WorkspaceStatus> DecodeWorkspaceStatus(std::string_view json);

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_WORKSPACE_STATUS_H_
