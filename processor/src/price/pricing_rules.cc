#include "tokenmeter/processor/pricing_rules.h"

#include <set>
#include <tuple>

#include "price_book.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

auto OverrideKey(const PriceOverride& o) {
  return std::make_tuple(o.workspace, o.provider, o.model, o.effective_from.time_since_epoch().count());
}
auto AliasKey(const WorkspaceModelAlias& a) { return std::make_tuple(a.workspace, a.provider, a.name); }

std::string OverrideName(const PriceOverride& o) {
  std::string n = o.provider + "/" + o.model;
  if (o.effective_from != TimePoint{}) n += " from " + FormatRfc3339(o.effective_from);
  return n;
}

}  // namespace

Result<std::shared_ptr<const PricingRules>> PricingRules::Make(const std::vector<PriceOverride>& config_overrides,
                                                               const std::vector<WorkspaceModelAlias>& config_aliases) {
  Result<PriceBook> book = PriceBook::FromEmbedded();
  if (!book.ok()) return book.status();
  for (const PriceOverride& o : config_overrides) RETURN_IF_ERROR(book->AddOverride(o));
  for (const WorkspaceModelAlias& a : config_aliases) RETURN_IF_ERROR(book->AddAlias(a));
  return std::shared_ptr<const PricingRules>(new PricingRules(std::make_shared<const PriceBook>(std::move(*book)),
                                                              config_overrides, config_aliases));
}

Status PricingRules::Check(const std::vector<PriceOverride>& overrides,
                           const std::vector<WorkspaceModelAlias>& aliases) const {
  std::set<decltype(OverrideKey(PriceOverride{}))> declared_overrides, seen_overrides;
  for (const PriceOverride& o : config_overrides_) declared_overrides.insert(OverrideKey(o));
  std::set<decltype(AliasKey(WorkspaceModelAlias{}))> declared_aliases, seen_aliases;
  for (const WorkspaceModelAlias& a : config_aliases_) declared_aliases.insert(AliasKey(a));
  PriceBook scratch = *base_;
  for (const PriceOverride& o : overrides) {
    if (declared_overrides.contains(OverrideKey(o))) {
      return FailedPrecondition("the price of " + OverrideName(o) + " is declared in the config file; change it there");
    }
    if (!seen_overrides.insert(OverrideKey(o)).second) {
      return InvalidArgument("the price of " + OverrideName(o) + " is listed twice");
    }
    RETURN_IF_ERROR(scratch.AddOverride(o));
  }
  for (const WorkspaceModelAlias& a : aliases) {
    if (declared_aliases.contains(AliasKey(a))) {
      return FailedPrecondition("the model alias " + a.provider + "/" + a.name +
                                " is declared in the config file; change it there");
    }
    if (!seen_aliases.insert(AliasKey(a)).second) {
      return InvalidArgument("the model alias " + a.provider + "/" + a.name + " is listed twice");
    }
    RETURN_IF_ERROR(scratch.AddAlias(a));
  }
  return Status::Ok();
}

Result<std::shared_ptr<const PriceBook>> PricingRules::BookWith(const std::vector<PriceOverride>& overrides,
                                                                const std::vector<WorkspaceModelAlias>& aliases) const {
  if (overrides.empty() && aliases.empty()) return base_;
  PriceBook book = *base_;
  for (const PriceOverride& o : overrides) RETURN_IF_ERROR(book.AddOverride(o));
  for (const WorkspaceModelAlias& a : aliases) RETURN_IF_ERROR(book.AddAlias(a));
  return std::shared_ptr<const PriceBook>(std::make_shared<const PriceBook>(std::move(book)));
}

}  // namespace tokenmeter
