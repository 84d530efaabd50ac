// A budget from its text form (BudgetRecord: the config file's workspaces[].budgets[] and
// the admin API's PUT /v1/admin/budgets/{id} alike), checked by one set of rules. An
// error's message starts with the config key it is about ("amount_usd must be ...").
#ifndef TOKENMETER_DEPLOY_BUDGET_TEXT_H_
#define TOKENMETER_DEPLOY_BUDGET_TEXT_H_

#include <string>

#include "tokenmeter/processor/alerting_config.h"
#include "tokenmeter/settings/settings_change.h"

namespace tokenmeter {

Result<BudgetConfig> BudgetOf(const std::string& workspace, const BudgetRecord& text);

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_BUDGET_TEXT_H_
