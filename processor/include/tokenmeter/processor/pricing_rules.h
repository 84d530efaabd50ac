// PricingRules: what a workspace's pricing made through the admin API may be, decided the
// same way in every process that checks a change (an edge checks what the processors will
// apply), and the price book a processor prices with once it is applied: the embedded
// catalog with the config file's overrides and aliases, plus the API's. The config file
// wins for what it declares: an API alias or override of the same name is refused.
// Immutable; any thread.
#ifndef TOKENMETER_PROCESSOR_PRICING_RULES_H_
#define TOKENMETER_PROCESSOR_PRICING_RULES_H_

#include <memory>
#include <vector>

#include "tokenmeter/base/status.h"
#include "tokenmeter/processor/pricing_config.h"

namespace tokenmeter {

class PriceBook;

class PricingRules {
 public:
  // The embedded catalog with the config file's pricing (refused as the processor would).
  static Result<std::shared_ptr<const PricingRules>> Make(const std::vector<PriceOverride>& config_overrides,
                                                          const std::vector<WorkspaceModelAlias>& config_aliases);
  // OK when `overrides` and `aliases` (one workspace's, all of the API's) can price: each
  // override has input and output prices (its own or the catalog's), none is listed twice,
  // none names what the config file declares for the workspace.
  Status Check(const std::vector<PriceOverride>& overrides, const std::vector<WorkspaceModelAlias>& aliases) const;
  // The book with the API's pricing of every workspace added (each set checked).
  Result<std::shared_ptr<const PriceBook>> BookWith(const std::vector<PriceOverride>& overrides,
                                                    const std::vector<WorkspaceModelAlias>& aliases) const;
  // The book with the config file's pricing only.
  std::shared_ptr<const PriceBook> base() const { return base_; }

 private:
  explicit PricingRules(std::shared_ptr<const PriceBook> base, std::vector<PriceOverride> o,
                        std::vector<WorkspaceModelAlias> a)
      : base_(std::move(base)), config_overrides_(std::move(o)), config_aliases_(std::move(a)) {}
  std::shared_ptr<const PriceBook> base_;
  std::vector<PriceOverride> config_overrides_;
  std::vector<WorkspaceModelAlias> config_aliases_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PRICING_RULES_H_
