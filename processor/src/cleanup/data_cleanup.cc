#include "data_cleanup.h"

#include <algorithm>
#include <vector>

#include "aggregate/rollup.h"
#include "dedup/dedup_record.h"
#include "events/stored_event.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {

Result<CleanupOutcome> StageCleanup(const StateStore& store, const DedupIndex& dedup, const CleanupCommand& command,
                                    StateStore::Batch& batch, BatchRollups& rollups) {
  // 1. The rows: event keys are \0, receive and occurred times, mode, ws \0 id (keyed by
  // time, so every row is read; the workspace and mode are in the key).
  const char mode = static_cast<char>('0' + static_cast<int>(command.mode));
  std::vector<std::pair<std::string, std::string>> rows;
  Status scanned = store.Scan(Family::kEvents, std::string(1, '\0'), std::string(1, '\x01'),
                              [&](std::string_view k, std::string_view v) {
                                if (k.size() <= kEventKeyHeadBytes || k[kEventKeyHeadBytes - 1] != mode) return true;
                                std::string_view rest = k.substr(kEventKeyHeadBytes);
                                const size_t nul = rest.find('\0');
                                if (nul == std::string_view::npos || rest.substr(0, nul) != command.workspace) return true;
                                rows.emplace_back(k, v);
                                return true;
                              });
  RETURN_IF_ERROR(scanned);

  // 2. Each row's contribution taken back, and the row and its id's record deleted.
  CleanupOutcome out;
  RollupCounters counters;
  for (const auto& [key, value] : rows) {
    std::optional<StoredEvent> stored = DecodeStoredEvent(value);
    if (!stored) return Internal("cleanup " + command.id + ": an event row cannot be read");
    const UsageEvent& e = stored->event;
    if (command.scope == CleanupScope::kMine &&
        std::find(command.key_ids.begin(), command.key_ids.end(), e.api_key_id) == command.key_ids.end()) {
      continue;
    }
    CountersOfCall(e, stored->cost.total ? std::optional<int64_t>(stored->cost.total->value) : std::nullopt, counters);
    rollups.Remove(e, counters);
    batch.Delete(Family::kEvents, key);
    ++out.events;
    // Its id's record, when it still names this row (an id counted again after the dedup
    // window names the newer row, whose retries are not this one's).
    Result<DedupChoice> found = FindDedup(store, dedup, DedupKey(e.workspace, e.request_id));
    if (!found.ok()) return found.status();
    const std::optional<DedupRecord>& record = found->record;
    if (!record || std::string_view(record->event_key).substr(0, kEventKeyHeadBytes) !=
                       std::string_view(key).substr(0, kEventKeyHeadBytes)) {
      continue;
    }
    if (record->attempts > 1) {
      // Retries were counted in the original's rows (a copy without a time of its own
      // too), as duplicates only.
      RollupCounters dup;
      dup.v[kDuplicates] = -static_cast<int64_t>(record->attempts - 1);
      rollups.Add(e, dup, /*duplicate_only=*/true);
      out.retries += record->attempts - 1;
    }
    batch.Delete(Family::kDedup, found->key);
  }
  return out;
}

std::string CleanupResultKey(std::string_view workspace, std::string_view id) {
  std::string k = "cleanup";
  k.push_back('\0');
  k.append(workspace);
  k.push_back('\0');
  k.append(id);
  return k;
}

std::string CleanupResultJson(const CleanupCommand& c, const CleanupOutcome& outcome, int64_t applied_ms) {
  std::string out = "{\"cleanupId\":";
  AppendJsonString(out, c.id);
  out += ",\"dataMode\":\"";
  out += DataModeName(c.mode);
  out += "\",\"scope\":\"";
  out += c.scope == CleanupScope::kWorkspace ? "workspace" : "mine";
  out += "\",\"requestedBy\":";
  AppendJsonString(out, c.requested_by);
  out += ",\"requestedAt\":\"" + FormatRfc3339(TimePoint(std::chrono::milliseconds(c.issued_ms))) +
         "\",\"appliedAt\":\"" + FormatRfc3339(TimePoint(std::chrono::milliseconds(applied_ms))) +
         "\",\"removedEvents\":" + std::to_string(outcome.events) +
         ",\"removedRetries\":" + std::to_string(outcome.retries) + "}";
  return out;
}

}  // namespace tokenmeter
