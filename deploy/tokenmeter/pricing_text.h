// A workspace's pricing from its text form (PriceOverrideRecord, ModelAliasRecord: the
// config file's workspaces[].price_overrides[] and model_aliases[] and the admin API's
// PUT /v1/admin/pricing alike), checked by one set of rules. An error's message starts with
// the config key it is about ("input_usd_per_mtok must be ...").
#ifndef TOKENMETER_DEPLOY_PRICING_TEXT_H_
#define TOKENMETER_DEPLOY_PRICING_TEXT_H_

#include <string>
#include <vector>

#include "tokenmeter/model/normalizer.h"
#include "tokenmeter/processor/pricing_config.h"
#include "tokenmeter/settings/settings_change.h"

namespace tokenmeter {

// Provider and model names are normalized as events' are.
Result<PriceOverride> PriceOverrideOf(const std::string& workspace, const PriceOverrideRecord& text,
                                      const Normalizer& normalizer);
Result<WorkspaceModelAlias> ModelAliasOf(const std::string& workspace, const ModelAliasRecord& text,
                                         const Normalizer& normalizer);

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_PRICING_TEXT_H_
