// PriceBook: the pricing catalog in memory. Finds the prices in force for a (provider,
// model) at an event's time, resolving aliases and dated model names.
//
// Prices are integer femto-USD (1e-15 USD) per token. A price the catalog lacks is
// std::nullopt, never zero. Immutable after construction: shared read-only across
// threads as std::shared_ptr<const PriceBook>; reloads build a new one.
#ifndef TOKENMETER_PROCESSOR_PRICE_PRICE_BOOK_H_
#define TOKENMETER_PROCESSOR_PRICE_PRICE_BOOK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/base/status.h"

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

// Prices that replace the base prices when the prompt side of a request is above
// `above_prompt_tokens`; components a tier lacks keep their base price.
struct PriceTier {
  uint64_t above_prompt_tokens = 0;
  TokenPrices prices;
};

struct PriceEntry {
  TimePoint effective_from{};
  TokenPrices base;
  std::vector<PriceTier> tiers;  // ascending thresholds
  std::string source;            // the catalog key or hand-kept note it came from
};

class PriceBook {
 public:
  // Parses catalog.json and aliases.json text (schemas/pricing).
  static Result<PriceBook> FromJson(std::string_view catalog_json, std::string_view aliases_json);
  // The catalog compiled into the binary.
  static Result<PriceBook> FromEmbedded();

  // The entry in force at `at` for the normalized provider and model, or nullptr if the
  // model is unknown (or not yet priced at `at`). Tries the name, then its alias, then
  // the name without a date suffix (-YYYYMMDD or -YYYY-MM-DD), then that name's alias.
  const PriceEntry* Find(std::string_view provider, std::string_view model, TimePoint at) const;

  const std::string& version() const { return version_; }
  size_t size() const { return entries_.size(); }

 private:
  const std::vector<PriceEntry>* Lookup(std::string_view provider, std::string_view model) const;

  std::string version_;
  // "provider\0model" -> entries sorted by effective_from.
  std::unordered_map<std::string, std::vector<PriceEntry>> entries_;
  std::unordered_map<std::string, std::string> aliases_;  // "provider\0alias" -> model
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PRICE_PRICE_BOOK_H_
