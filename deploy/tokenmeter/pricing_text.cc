#include "pricing_text.h"

#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/units.h"

namespace tokenmeter {

Result<PriceOverride> PriceOverrideOf(const std::string& workspace, const PriceOverrideRecord& text,
                                      const Normalizer& normalizer) {
  if (text.provider.empty()) return InvalidArgument("provider is required");
  if (text.model.empty()) return InvalidArgument("model is required");
  PriceOverride o;
  o.workspace = workspace;
  o.provider = normalizer.Provider(text.provider);
  o.model = normalizer.Model(o.provider, text.model);
  if (!text.effective_from.empty()) {
    std::optional<TimePoint> t = ParseRfc3339(text.effective_from);
    if (!t) return InvalidArgument("effective_from must be RFC 3339, e.g. \"2026-01-01T00:00:00Z\"");
    o.effective_from = *t;
  }
  // "2.50" (USD per million tokens) -> femto-USD per token (the same number as nano-USD
  // per million tokens), exactly.
  const std::pair<const char*, std::pair<const std::string*, std::optional<FemtoUsd>*>> components[] = {
      {"input_usd_per_mtok", {&text.input, &o.prices.input}},
      {"output_usd_per_mtok", {&text.output, &o.prices.output}},
      {"cache_read_usd_per_mtok", {&text.cache_read, &o.prices.cache_read}},
      {"cache_write_usd_per_mtok", {&text.cache_write, &o.prices.cache_write}},
      {"cache_write_1h_usd_per_mtok", {&text.cache_write_1h, &o.prices.cache_write_1h}},
      {"reasoning_usd_per_mtok", {&text.reasoning, &o.prices.reasoning}}};
  for (const auto& [key, texts] : components) {
    const auto& [value, price] = texts;
    if (value->empty()) continue;
    std::optional<NanoUsd> v = ParseDecimalUsd(*value, 1'000'000);
    if (!v || v->value < 0) {
      return InvalidArgument(std::string(key) + " must be a decimal USD amount per million tokens, e.g. \"2.50\"");
    }
    *price = static_cast<FemtoUsd>(v->value);
  }
  return o;
}

Result<WorkspaceModelAlias> ModelAliasOf(const std::string& workspace, const ModelAliasRecord& text,
                                         const Normalizer& normalizer) {
  if (text.provider.empty()) return InvalidArgument("provider is required");
  if (text.name.empty()) return InvalidArgument("name is required");
  if (text.model.empty()) return InvalidArgument("model is required");
  WorkspaceModelAlias a;
  a.workspace = workspace;
  a.provider = normalizer.Provider(text.provider);
  a.name = normalizer.Model(a.provider, text.name);
  a.model = normalizer.Model(a.provider, text.model);
  return a;
}

}  // namespace tokenmeter
