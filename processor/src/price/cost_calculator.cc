#include "cost_calculator.h"

#include <algorithm>
#include <limits>

#include "tokenmeter/base/enum_names.h"

namespace tokenmeter {
namespace {

using u128 = unsigned __int128;

bool CacheBeside(const UsageEvent& e) {
  if (e.provider == "anthropic") return true;
  return e.provider == "aws_bedrock" && (e.model.find("anthropic.") != std::string::npos ||
                                         e.model.find("claude") != std::string::npos);
}

// The prices of the tier in force (components the tier lacks keep their base price).
TokenPrices Effective(const PriceEntry& entry, uint64_t prompt_tokens, uint64_t& threshold) {
  TokenPrices p = entry.base;
  threshold = 0;
  for (const PriceTier& t : entry.tiers) {
    if (prompt_tokens <= t.above_prompt_tokens) break;
    threshold = t.above_prompt_tokens;
    TokenPrices merged = entry.base;
    if (t.prices.input) merged.input = t.prices.input;
    if (t.prices.output) merged.output = t.prices.output;
    if (t.prices.cache_read) merged.cache_read = t.prices.cache_read;
    if (t.prices.cache_write) merged.cache_write = t.prices.cache_write;
    if (t.prices.cache_write_1h) merged.cache_write_1h = t.prices.cache_write_1h;
    if (t.prices.reasoning) merged.reasoning = t.prices.reasoning;
    p = merged;
  }
  return p;
}

}  // namespace

namespace {

constexpr EnumNames<CostSource, 5> kCostSources(
    {"catalog", "catalog_tiered", "client_override", "unpriced", "workspace_override"});

}  // namespace

std::string_view CostSourceName(CostSource s) { return kCostSources.Name(s); }

NanoUsd RoundFemtoToNano(u128 femto) {
  u128 q = femto / 1'000'000;
  u128 r = femto % 1'000'000;
  if (r > 500'000 || (r == 500'000 && (q & 1) == 1)) ++q;
  constexpr u128 kMax = static_cast<u128>(std::numeric_limits<int64_t>::max());
  return NanoUsd{static_cast<int64_t>(q > kMax ? kMax : q)};
}

Cost PriceEvent(const UsageEvent& e, const PriceBook& book) {
  Cost c;
  if (e.estimated_cost) {
    c.source = CostSource::kClientOverride;
    c.total = *e.estimated_cost;
    return c;
  }
  const PriceEntry* entry = book.FindFor(e.workspace, e.provider, e.model, e.occurred_at);
  if (entry == nullptr) return c;  // unpriced: counted and listed, never priced at zero

  const bool beside = CacheBeside(e);
  const bool google = e.provider == "google";
  uint64_t input = e.input_tokens;
  uint64_t cached = e.cached_tokens;
  uint64_t writes = beside ? e.cache_write_tokens : 0;
  uint64_t writes_1h = beside ? e.cache_write_1h_tokens : 0;
  if (!beside && cached > input) {
    c.flags |= kFlagCachedExceedsInput;
    cached = input;
  }
  if (!google && e.reasoning_tokens > e.output_tokens) c.flags |= kFlagReasoningExceedsOutput;
  uint64_t uncached_input = beside ? input : input - cached;
  uint64_t prompt = beside ? input + cached + writes + writes_1h : input;

  TokenPrices p = Effective(*entry, prompt, c.tier_threshold);
  FemtoUsd in = *p.input;
  FemtoUsd out = *p.output;
  FemtoUsd read = p.cache_read.value_or(in);
  FemtoUsd write = p.cache_write.value_or(in);
  FemtoUsd write_1h = p.cache_write_1h.value_or(write);
  FemtoUsd think = google ? p.reasoning.value_or(out) : 0;

  u128 f_input = u128(uncached_input) * in;
  u128 f_cached = u128(cached) * read;
  u128 f_writes = u128(writes) * write + u128(writes_1h) * write_1h;
  u128 f_output = u128(e.output_tokens) * out;
  u128 f_reasoning = u128(google ? e.reasoning_tokens : 0) * think;
  u128 sum = f_input + f_cached + f_writes + f_output + f_reasoning;
  if (sum / 1'000'000 >= static_cast<u128>(std::numeric_limits<int64_t>::max())) {
    c.flags |= kFlagCostOverflow;  // only an absurd catalog price gets here
    return c;
  }
  c.total = RoundFemtoToNano(sum);
  c.input = RoundFemtoToNano(f_input);
  c.cached = RoundFemtoToNano(f_cached);
  c.cache_write = RoundFemtoToNano(f_writes);
  c.output = RoundFemtoToNano(f_output);
  c.reasoning = RoundFemtoToNano(f_reasoning);
  c.source = entry->workspace_override ? CostSource::kWorkspaceOverride
             : c.tier_threshold           ? CostSource::kCatalogTiered
                                          : CostSource::kCatalog;
  return c;
}

}  // namespace tokenmeter
