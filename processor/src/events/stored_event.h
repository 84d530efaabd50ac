// The events family's row: one counted call and what it cost, in a compact binary form
// (DESIGN.md "compact event"): a version byte, then every field in a fixed order, texts
// length-prefixed and numbers as varints. ~150-250 bytes where the JSON lines it replaces
// took ~700; each event row passes through the memtable, the WAL and every compaction.
// A row of another version is not read. Pure value code; any thread.
#ifndef TOKENMETER_PROCESSOR_EVENTS_STORED_EVENT_H_
#define TOKENMETER_PROCESSOR_EVENTS_STORED_EVENT_H_

#include <optional>
#include <string>
#include <string_view>

#include "price/cost_calculator.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

// Appends the events-family key of an event: \0, receivedAt and occurredAt (ms, 8 bytes
// big-endian each), mode, ws \0 request_id. Receive time first, and `Prepare` raises it
// to one past the newest key of the batches before (`event_key_floor_ms_`), so each
// batch's rows sort after every row stored before them: inserts land at the memtable's
// end and a flushed file overlaps no file of the level below, so the family's
// compactions move files instead of rewriting them (keyed by workspace first, every
// flush overlapped the whole family). Only point reads use this family, through the
// dedup record's copy of the key. The head, up to the workspace id, is
// kEventKeyHeadBytes long (a dedup record stores only it).
void AppendEventKey(const UsageEvent& e, std::string& out);
// The occurredAt (ms since the epoch) in an event key; nullopt for any other key.
std::optional<int64_t> EventKeyTime(std::string_view key);
// The bytes of an event key before its workspace id: \0, the two times, the mode.
inline constexpr size_t kEventKeyHeadBytes = 18;

// Appends the row of `e`, priced as `cost` with catalog `catalog_version`, to `out`.
void EncodeStoredEvent(const UsageEvent& e, const Cost& cost, std::string_view catalog_version, std::string& out);

// A row read back: the event, its cost and the catalog it was priced with.
struct StoredEvent {
  UsageEvent event;
  Cost cost;
  std::string catalog_version;
};
// nullopt when the row is not one (another version, corrupt).
std::optional<StoredEvent> DecodeStoredEvent(std::string_view row);

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

#endif  // TOKENMETER_PROCESSOR_EVENTS_STORED_EVENT_H_
