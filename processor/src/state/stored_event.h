// The events family's row: one counted call and what it cost, in a compact binary form
// (DESIGN.md "compact event"): a version byte, then every field in a fixed order, texts
// length-prefixed and numbers as varints. ~150-250 bytes where the JSON lines it replaces
// took ~700; each event row passes through the memtable, the WAL and every compaction.
// A row of another version is not read. Pure value code; any thread.
#ifndef TOKENMETER_PROCESSOR_STATE_STORED_EVENT_H_
#define TOKENMETER_PROCESSOR_STATE_STORED_EVENT_H_

#include <optional>
#include <string>
#include <string_view>

#include "price/cost_calculator.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

// Appends the row of `e`, priced as `cost` with catalog `catalog_version`, to `out`.
void EncodeStoredEvent(const UsageEvent& e, const Cost& cost, std::string_view catalog_version, std::string& out);

// What the query API shows for a row: the canonical event JSON and the cost JSON.
struct StoredEventJson {
  std::string event;
  std::string cost;
};
// nullopt when the row is neither form (corrupt).
std::optional<StoredEventJson> StoredEventToJson(std::string_view row);

// The cost JSON of a priced event: {"cost_usd", "cost_source", "catalog_version",
// "pricing_flags", "tier_above_prompt_tokens", "breakdown_usd"}; money as decimal strings.
void AppendCostJson(const Cost& cost, std::string_view catalog_version, std::string& out);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_STATE_STORED_EVENT_H_
