// PriceBook: the pricing catalog in memory. Finds the prices in force for a (provider,
// model) at an event's time, resolving aliases and model names as clients send them
// (Find says how).
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
#include "tokenmeter/processor/pricing_config.h"

namespace tokenmeter {

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
  bool workspace_override = false;
};

class PriceBook {
 public:
  // Parses catalog.json and aliases.json text (schemas/pricing).
  static Result<PriceBook> FromJson(std::string_view catalog_json, std::string_view aliases_json);
  // The catalog compiled into the binary.
  static Result<PriceBook> FromEmbedded();

  // Adds a workspace's overrides and aliases; call before sharing the book.
  Status AddOverride(const PriceOverride& o);
  Status AddAlias(const WorkspaceModelAlias& a);

  // The entry in force for a workspace's event: its alias and override first, then the
  // catalog (see Find below).
  const PriceEntry* FindFor(std::string_view workspace, std::string_view provider,
                            std::string_view model, TimePoint at) const;

  // The entry in force at `at` for the normalized provider and model, or nullptr if the
  // model is unknown (or not yet priced at `at`). The first of these the catalog has:
  //  1. the name, then its alias (aliases.json);
  //  2. the name without a date suffix (-YYYYMMDD or -YYYY-MM-DD), then that name's alias;
  //  3. the name without "-latest", then its alias;
  //  4. the newest dated version of the undated name (without "-latest"): the catalog's
  //     "claude-3-7-sonnet-20250219" prices "claude-3-7-sonnet" and
  //     "claude-3-7-sonnet-latest".
  const PriceEntry* Find(std::string_view provider, std::string_view model, TimePoint at) const;
  // The catalog model a name resolves to by the same rules (its own name when listed);
  // "" when none.
  std::string Resolve(std::string_view provider, std::string_view model) const;

  const std::string& version() const { return version_; }
  size_t size() const { return entries_.size(); }

 private:
  // The entries of a name or of its alias; `resolved` (if given) gets the catalog name.
  const std::vector<PriceEntry>* Lookup(std::string_view provider, std::string_view model,
                                        std::string* resolved = nullptr) const;
  const std::vector<PriceEntry>* LookupClientName(std::string_view provider, std::string_view model,
                                                  std::string* resolved) const;

  std::string version_;
  // "provider\0model" -> entries sorted by effective_from.
  std::unordered_map<std::string, std::vector<PriceEntry>> entries_;
  std::unordered_map<std::string, std::string> aliases_;  // "provider\0alias" -> model
  // "provider\0undated" -> the newest dated catalog model of that name.
  std::unordered_map<std::string, std::string> newest_dated_;
  // "workspace\0provider\0model" -> override entries (merged with the catalog), by time.
  std::unordered_map<std::string, std::vector<PriceEntry>> overrides_;
  // "workspace\0provider\0name" -> model.
  std::unordered_map<std::string, std::string> workspace_aliases_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PRICE_PRICE_BOOK_H_
