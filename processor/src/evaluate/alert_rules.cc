#include "alert_rules.h"

#include <algorithm>
#include <set>

namespace tokenmeter {

AlertRules::AlertRules(AlertingConfig config) : config_(std::move(config)) {
  for (const BudgetConfig& b : config_.budgets) budgets_[b.workspace].push_back(&b);
  for (const PlanLimit& p : config_.plan_limits) plans_[p.workspace] = &p;
}

const std::vector<const BudgetConfig*>& AlertRules::BudgetsFor(std::string_view workspace) const {
  static const std::vector<const BudgetConfig*> kNone;
  auto it = budgets_.find(workspace);
  return it == budgets_.end() ? kNone : it->second;
}

const BudgetConfig* AlertRules::FindBudget(std::string_view workspace, std::string_view id) const {
  for (const BudgetConfig* b : BudgetsFor(workspace)) {
    if (b->id == id) return b;
  }
  return nullptr;
}

const PlanLimit* AlertRules::PlanFor(std::string_view workspace) const {
  auto it = plans_.find(workspace);
  return it == plans_.end() ? nullptr : it->second;
}

std::vector<std::string> AlertRules::SinksFor(const Alert& a) const {
  std::vector<std::string> out;
  std::string_view type = AlertTypeName(a.type);
  for (const AlertRoute& r : config_.routes) {
    if (r.workspace != a.workspace) continue;
    if (!r.types.empty() && std::find(r.types.begin(), r.types.end(), type) == r.types.end()) continue;
    if (std::find(out.begin(), out.end(), r.sink) == out.end()) out.push_back(r.sink);
  }
  return out;
}

std::vector<std::string> AlertRules::Workspaces() const {
  std::set<std::string> ws;
  for (const auto& [w, _] : budgets_) ws.insert(w);
  for (const auto& [w, _] : plans_) ws.insert(w);
  return {ws.begin(), ws.end()};
}

Status AlertingConfig::Validate() const {
  std::set<std::pair<std::string, std::string>> ids;
  for (const BudgetConfig& b : budgets) {
    std::string where = "budget \"" + b.id + "\" of workspace " + b.workspace;
    if (b.id.empty()) return InvalidArgument("a budget of workspace " + b.workspace + " has no id");
    if (!ids.emplace(b.workspace, b.id).second) return InvalidArgument(where + " is defined twice");
    if (b.amount.value <= 0) return InvalidArgument(where + ": amount_usd must be > 0");
    if (b.data_modes.empty()) return InvalidArgument(where + ": data_modes must not be empty");
    for (size_t i = 0; i < b.thresholds_ppm.size(); ++i) {
      uint32_t t = b.thresholds_ppm[i];
      if (t == 0 || t > 10 * kExceededPpm) {
        return InvalidArgument(where + ": thresholds must be in (0, 10]");
      }
      if (i > 0 && t <= b.thresholds_ppm[i - 1]) {
        return InvalidArgument(where + ": thresholds must be ascending and distinct");
      }
    }
  }
  std::set<std::string> plan_ws;
  for (const PlanLimit& p : plan_limits) {
    if (p.requests_per_month <= 0) {
      return InvalidArgument("plan of workspace " + p.workspace + ": requests_per_month must be > 0");
    }
    if (!plan_ws.insert(p.workspace).second) return InvalidArgument("workspace " + p.workspace + " has two plans");
  }
  for (const AlertRoute& r : routes) {
    for (const std::string& t : r.types) {
      if (!ParseAlertType(t)) {
        return InvalidArgument("alert route of workspace " + r.workspace + ": unknown alert type \"" + t + "\"");
      }
    }
  }
  if (repeat_interval.count() < 0) return InvalidArgument("alerts.repeat_interval_s must be >= 0");
  return Status::Ok();
}

}  // namespace tokenmeter
