// AlertRules: the alerting config indexed for the pipeline: budgets and the plan limit of
// a workspace, and which sinks an alert is routed to. Immutable after construction;
// shared as std::shared_ptr<const AlertRules> (LiveRules holds the one in force); any thread.
#ifndef TOKENMETER_PROCESSOR_EVALUATE_ALERT_RULES_H_
#define TOKENMETER_PROCESSOR_EVALUATE_ALERT_RULES_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/model/alert.h"
#include "tokenmeter/processor/alerting_config.h"

namespace tokenmeter {

class AlertRules {
 public:
  explicit AlertRules(AlertingConfig config);

  const AlertingConfig& config() const { return config_; }
  // Budgets of a workspace, in config order.
  const std::vector<const BudgetConfig*>& BudgetsFor(std::string_view workspace) const;
  const BudgetConfig* FindBudget(std::string_view workspace, std::string_view id) const;
  const PlanLimit* PlanFor(std::string_view workspace) const;
  // Sink ids the alert goes to, in route order, each once.
  std::vector<std::string> SinksFor(const Alert& a) const;
  // Workspaces with a budget or a plan limit.
  std::vector<std::string> Workspaces() const;

 private:
  AlertingConfig config_;
  std::map<std::string, std::vector<const BudgetConfig*>, std::less<>> budgets_;
  std::map<std::string, const PlanLimit*, std::less<>> plans_;
};

// The rules in force: replaced whole when the settings' budgets change, so a batch
// evaluated with one set sees all of one change or none of it. Any thread.
class LiveRules {
 public:
  explicit LiveRules(std::shared_ptr<const AlertRules> rules) : rules_(std::move(rules)) {}
  std::shared_ptr<const AlertRules> Current() const {
    std::lock_guard lock(mu_);
    return rules_;
  }
  void Replace(std::shared_ptr<const AlertRules> rules) {
    std::lock_guard lock(mu_);
    rules_ = std::move(rules);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const AlertRules> rules_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_EVALUATE_ALERT_RULES_H_
