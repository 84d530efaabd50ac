// PriceEvent: the exact cost of one call (DESIGN.md "Pricing"). Pure function; any thread.
//
// Token semantics by provider family:
//  * cache-inside (openai, azure_openai, google, and providers not listed below): cached
//    prompt tokens are part of input_tokens, priced (input - cached) * input +
//    cached * cache_read. cached > input is flagged and clamped, never priced negative.
//  * cache-beside (anthropic; aws_bedrock models whose name contains "anthropic." or
//    "claude"): cache reads and 5 m / 1 h cache writes are billed beside input_tokens.
//  * reasoning: google bills thoughts beside output (reasoning price, else output price);
//    everywhere else reasoning tokens are inside output_tokens and informational
//    (reasoning > output is flagged).
//  * tiers: when the prompt side (input, plus cache reads and writes for cache-beside)
//    is above a tier's threshold, every component is priced at that tier.
// A missing cache price falls back to the input price (1 h writes: to the 5 m price
// first), never to zero. The sum is kept in femto-USD (128-bit) and rounded once, half
// to even, to nano-USD. estimatedCostUsd replaces all of it; an unknown model is unpriced.
#ifndef TOKENMETER_PROCESSOR_PRICE_COST_CALCULATOR_H_
#define TOKENMETER_PROCESSOR_PRICE_COST_CALCULATOR_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "price_book.h"
#include "tokenmeter/base/units.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

enum class CostSource : uint8_t {
  kCatalog, kCatalogTiered, kClientOverride, kUnpriced, kWorkspaceOverride
};
std::string_view CostSourceName(CostSource s);

enum PricingFlag : uint32_t {
  kFlagCachedExceedsInput = 1u << 0,     // cache-inside provider sent cached > input
  kFlagReasoningExceedsOutput = 1u << 1,  // reasoning-inside provider sent reasoning > output
  kFlagCostOverflow = 1u << 2,  // the cost does not fit int64 nano-USD: left unpriced
};

struct Cost {
  CostSource source = CostSource::kUnpriced;
  std::optional<NanoUsd> total;  // nullopt when unpriced
  // Each component rounded on its own, for display; the total is rounded once from the
  // exact sum, so the components may differ from it by a nano-USD or two.
  NanoUsd input, cached, cache_write, output, reasoning;
  uint64_t tier_threshold = 0;  // the tier applied, 0 for base prices
  uint32_t flags = 0;           // PricingFlag bits
};

Cost PriceEvent(const UsageEvent& event, const PriceBook& book);

// Rounds femto-USD to nano-USD, half to even; saturates at the int64 maximum.
NanoUsd RoundFemtoToNano(unsigned __int128 femto);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PRICE_COST_CALCULATOR_H_
