// Per-workspace pricing from the config: negotiated prices and model aliases (for
// example Azure deployment names). Prices are integer femto-USD per token, which is the
// same number as nano-USD per million tokens (how the config writes them).
#ifndef TOKENMETER_PROCESSOR_PRICING_CONFIG_H_
#define TOKENMETER_PROCESSOR_PRICING_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "tokenmeter/base/clock.h"

namespace tokenmeter {

using FemtoUsd = uint64_t;  // per-token price; 1e-15 USD

struct TokenPrices {
  std::optional<FemtoUsd> input;
  std::optional<FemtoUsd> output;
  std::optional<FemtoUsd> cache_read;
  std::optional<FemtoUsd> cache_write;     // 5-minute cache writes
  std::optional<FemtoUsd> cache_write_1h;  // 1-hour cache writes
  std::optional<FemtoUsd> reasoning;       // where the provider bills reasoning apart
};

// A workspace's negotiated price for a model. Components left unset keep the catalog's
// price in force (if any); catalog tiers do not apply to an override.
struct PriceOverride {
  std::string workspace;
  std::string provider;  // normalized
  std::string model;     // normalized
  TimePoint effective_from{};
  TokenPrices prices;
};

// A name a workspace's clients send for a model (an Azure deployment name, say).
struct WorkspaceModelAlias {
  std::string workspace;
  std::string provider;
  std::string name;   // normalized as at ingest (lowercase)
  std::string model;  // the catalog model it means
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PRICING_CONFIG_H_
