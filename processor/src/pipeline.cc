#include "pipeline.h"

#include <algorithm>
#include <map>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "aggregate/batch_rollups.h"
#include "aggregate/rollup.h"
#include "dedup/dedup_record.h"
#include "emit/alert_store.h"
#include "evaluate/drift_evaluator.h"
#include "evaluate/spend_evaluator.h"
#include "price/cost_calculator.h"
#include "state/stored_event.h"

namespace tokenmeter {
namespace {

// Counters one new event adds to each of its rollup rows, into `c` (reused between events:
// its latency sketch keeps its one-bucket buffer, not a fresh allocation per event).
void FillCounters(const UsageEvent& e, const Cost& cost, RollupCounters& c) {
  c.v = {};
  c.latency.buckets.clear();
  c.v[kRequests] = 1;
  // A call reported without a status is counted as a success.
  bool ok = !e.status || *e.status == CallStatus::kSuccess;
  c.v[ok ? kSuccesses : kErrors] = 1;
  c.v[kInputTokens] = static_cast<int64_t>(e.input_tokens);
  c.v[kOutputTokens] = static_cast<int64_t>(e.output_tokens);
  c.v[kCachedTokens] = static_cast<int64_t>(e.cached_tokens);
  c.v[kCacheWriteTokens] = static_cast<int64_t>(e.cache_write_tokens + e.cache_write_1h_tokens);
  c.v[kReasoningTokens] = static_cast<int64_t>(e.reasoning_tokens);
  if (cost.total) {
    c.v[kCostNano] = cost.total->value;
  } else {
    c.v[kUnpriced] = 1;
  }
  if (e.latency_ms) {
    c.v[kLatencySumMs] = *e.latency_ms;
    c.v[kLatencyCount] = 1;
    c.latency.Add(*e.latency_ms);
  }
}

}  // namespace

std::string_view DeadLetterReasonName(DeadLetterReason r) {
  switch (r) {
    case DeadLetterReason::kMalformed: return "malformed";
    case DeadLetterReason::kInvalidEvent: return "invalid_event";
    case DeadLetterReason::kWrongKey: return "wrong_key";
    case DeadLetterReason::kConflict: return "conflict";
    case DeadLetterReason::kUnreadableRecord: return "unreadable_dedup_record";
    case DeadLetterReason::kCount: break;
  }
  return "invalid_event";
}

void AppendEventKey(const UsageEvent& e, std::string& k) {
  k.append(e.workspace);
  char mid[3 + 8] = {'\0', static_cast<char>('0' + static_cast<int>(e.data_mode)), '\0'};
  uint64_t ms = static_cast<uint64_t>(e.occurred_at.time_since_epoch().count());
  for (int i = 0; i < 8; ++i) mid[3 + i] = static_cast<char>((ms >> (56 - 8 * i)) & 0xff);
  k.append(mid, sizeof(mid));
  k.append(e.request_id);
}

std::optional<int64_t> EventKeyTime(std::string_view key) {
  size_t end = key.find('\0');  // a workspace id has no NUL byte
  if (end == std::string_view::npos || key.size() < end + 11 || key[end + 2] != '\0') return std::nullopt;
  uint64_t ms = 0;
  for (size_t i = end + 3; i < end + 11; ++i) ms = (ms << 8) | static_cast<unsigned char>(key[i]);
  return static_cast<int64_t>(ms);
}

BatchPipeline::BatchPipeline(StateStore& store, RollupJournal& rollups, const EventParser& parser,
                             std::shared_ptr<const PriceBook> prices, std::string topic,
                             std::shared_ptr<const AlertRules> rules, const Clock* clock,
                             std::chrono::milliseconds dedup_window)
    : store_(store), rollups_(rollups), parser_(parser), prices_(std::move(prices)), topic_(std::move(topic)),
      rules_(rules ? std::move(rules) : std::make_shared<const AlertRules>(AlertingConfig{})),
      clock_(clock ? clock : &system_clock_), dedup_window_(dedup_window) {}

BatchPipeline::Scratch& BatchPipeline::ScratchFor(int partition) {
  std::lock_guard lock(scratch_mu_);
  std::unique_ptr<Scratch>& s = scratch_[partition];
  if (!s) s = std::make_unique<Scratch>();
  return *s;
}

Result<PreparedBatch> BatchPipeline::Prepare(int partition, const std::vector<BusMessage>& messages) {
  PreparedBatch out(store_.NewBatch());
  out.partition = partition;
  Result<std::optional<int64_t>> stored = store_.NextOffset(topic_, partition);
  if (!stored.ok()) return stored.status();
  int64_t next = stored->value_or(0);

  // 1. Skip what this store already committed; decode and validate the rest.
  Scratch& scratch = ScratchFor(partition);
  std::vector<UsageEvent>& pool = scratch.events;  // this batch's events are pool[0, count)
  size_t count = 0;
  std::vector<const BusMessage*>& origin = scratch.origin;  // pool[i] came from *origin[i]
  origin.clear();
  origin.reserve(messages.size());
  auto dead_letter = [&](const BusMessage& m, std::string reason, DeadLetterReason kind) {
    out.dead_letters.push_back({partition, m.offset, m.value, std::move(reason), kind});
    ++out.stats.dead_by_reason[static_cast<size_t>(kind)];
  };
  int64_t last_offset = -1;
  for (const BusMessage& m : messages) {
    if (m.offset < next) {
      ++out.stats.redelivered;
      continue;
    }
    ++out.stats.consumed;
    last_offset = m.offset;
    if (count == pool.size()) {
      pool.emplace_back();
    } else {
      ClearKeepingCapacity(pool[count]);  // the last batch's event; its buffers stay
    }
    UsageEvent& e = pool[count];
    Status parsed = parser_.ParseCanonical(m.value, e, scratch.record);
    std::string reason;
    DeadLetterReason kind = DeadLetterReason::kInvalidEvent;
    if (!parsed.ok()) {
      reason = parsed.message();
      if (reason.rfind("malformed JSON", 0) == 0 || reason.find("NUL byte") != std::string::npos ||
          reason.find("must be a JSON object") != std::string::npos) {
        kind = DeadLetterReason::kMalformed;
      }
    } else if (e.workspace != m.key) {
      reason = "record key \"" + m.key + "\" is not the event's workspace";
      kind = DeadLetterReason::kWrongKey;
    }
    if (!reason.empty()) {
      dead_letter(m, std::move(reason), kind);
      continue;
    }
    ++count;
    origin.push_back(&m);
    if (!out.newest_received || e.received_at > *out.newest_received) out.newest_received = e.received_at;
  }
  if (last_offset < 0) {
    out.stats.dead_lettered = out.dead_letters.size();
    return out;
  }
  const std::span<const UsageEvent> events(pool.data(), count);

  // 2. Dedup: one MultiGet for the batch's distinct ids (slot[i]: event i's id), then
  // in-batch state in arrival order.
  std::vector<std::string>& key_pool = scratch.keys;  // this batch's distinct keys: [0, distinct)
  if (key_pool.size() < events.size()) key_pool.resize(events.size());  // `index` views them in place
  size_t distinct = 0;
  std::vector<uint32_t> slot(events.size());
  std::unordered_map<std::string_view, uint32_t> index;
  index.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    std::string& k = key_pool[distinct];
    k.clear();
    AppendDedupKey(events[i].workspace, events[i].request_id, k);
    auto [it, fresh] = index.emplace(k, static_cast<uint32_t>(distinct));
    if (fresh) ++distinct;
    slot[i] = it->second;
  }
  const std::span<const std::string> keys(key_pool.data(), distinct);
  std::vector<std::optional<std::string>> values;
  RETURN_IF_ERROR(store_.MultiGet(Family::kDedup, keys, values));
  std::vector<std::optional<DedupRecord>> records(keys.size());
  std::vector<bool> unreadable(keys.size(), false);  // a stored record Decode refuses
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!values[i]) continue;
    records[i] = DedupRecord::Decode(*values[i]);
    unreadable[i] = !records[i];
  }

  // 3-5. Price, aggregate and evaluate new events; count duplicates.
  BatchRollups rollups;
  RollupCounters counters;  // one new event's, refilled per event
  std::unordered_set<std::string_view> seen_workspaces;  // a copy in out.workspaces each
  std::vector<std::pair<std::string, std::string>>& row_pool = scratch.rows;  // this batch's: [0, rows)
  size_t rows = 0;
  SpendEvaluator spend(store_, *rules_);
  DriftEvaluator drift(store_, rollups_, *rules_);
  for (size_t i = 0; i < events.size(); ++i) {
    const UsageEvent& e = events[i];
    std::optional<DedupRecord>& record = records[slot[i]];
    if (unreadable[slot[i]]) {
      // Not applied and the stored row kept: a corrupt record must not turn an event
      // that may already be counted into a new one.
      dead_letter(*origin[i], "the stored dedup record of request_id \"" + e.request_id + "\" cannot be read (" +
                        std::to_string(values[slot[i]]->size()) + " bytes); event not applied",
                 DeadLetterReason::kUnreadableRecord);
      continue;
    }
    if (record && record->Expired(e.received_at, dedup_window_)) {
      record.reset();  // first seen before the dedup window: this copy is a new call
    }
    uint64_t fp = Fingerprint(e);
    if (record) {
      ++record->attempts;
      ++out.stats.duplicates;
      if (!record->SameContent(e, fp)) {
        ++out.stats.conflicts;
        dead_letter(*origin[i], "request_id \"" + e.request_id + "\" was first recorded with other content; this copy is not applied",
                   DeadLetterReason::kConflict);
      }
      RollupCounters dup;
      dup.v[kDuplicates] = 1;
      rollups.Add(e, dup, /*duplicate_only=*/true);
      continue;
    }
    Cost cost = PriceEvent(e, *prices_);
    if (!cost.total) ++out.stats.unpriced;
    if (rows == row_pool.size()) row_pool.emplace_back();
    auto& [row_key, row_value] = row_pool[rows++];
    row_key.clear();
    AppendEventKey(e, row_key);
    row_value.clear();
    EncodeStoredEvent(e, cost, prices_->version(), row_value);
    record = DedupRecord{e.received_at.time_since_epoch().count(), 1, fp, row_key};
    FillCounters(e, cost, counters);
    rollups.Add(e, counters, /*duplicate_only=*/false);
    RETURN_IF_ERROR(spend.Add(e, cost.total));
    drift.Observe(e);
    if (seen_workspaces.insert(e.workspace).second) out.workspaces.push_back(e.workspace);
    ++out.stats.counted;
  }
  out.stats.dead_lettered = out.dead_letters.size();
  std::sort(out.workspaces.begin(), out.workspaces.end());

  // 6. Evaluate closed minutes with the detectors (the batch's deltas included).
  // 7. Emit: each decided alert and its deliveries join the same batch as its cause.
  std::map<std::string, RollupCounters> deltas = rollups.Finish();
  out.alerts = spend.Finish(out.batch);
  RETURN_IF_ERROR(drift.Finish(deltas, out.batch, out.alerts));
  TimePoint now = clock_->Now();
  for (const Alert& a : out.alerts) {
    AlertStore::Emit(out.batch, a, rules_->SinksFor(a), now, next_alert_seq_.fetch_add(1));
    ++out.stats.alerts_by_type[static_cast<size_t>(a.type)];
  }

  // 8. Everything, and the next offset, in one batch. Rows go in key order per family,
  // for RocksDB's sequential-insert hint in the memtable (measured at 787b359: inserts
  // still averaged ~20 key comparisons; see benchmarks/README.md, "Processor").
  std::sort(row_pool.begin(), row_pool.begin() + static_cast<ptrdiff_t>(rows));
  for (size_t r = 0; r < rows; ++r) out.batch.Put(Family::kEvents, row_pool[r].first, row_pool[r].second);
  std::vector<uint32_t> dedup_rows;
  dedup_rows.reserve(keys.size());
  for (uint32_t k = 0; k < keys.size(); ++k) {
    if (records[k]) dedup_rows.push_back(k);
  }
  std::sort(dedup_rows.begin(), dedup_rows.end(), [&keys](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  for (uint32_t k : dedup_rows) {
    records[k]->EncodeTo(scratch.value);
    out.batch.Put(Family::kDedup, keys[k], scratch.value);
  }
  Result<RollupJournal::Staged> staged = rollups_.Stage(out.batch, std::move(deltas));
  if (!staged.ok()) return staged.status();
  out.rollups = std::move(*staged);
  out.batch.SetNextOffset(topic_, partition, last_offset + 1);
  out.has_changes = true;
  return out;
}

Status BatchPipeline::Commit(PreparedBatch& prepared, bool sync) {
  if (!prepared.has_changes) return Status::Ok();
  RETURN_IF_ERROR(store_.Commit(prepared.batch, sync));
  rollups_.Publish(std::move(prepared.rollups));
  if (prepared.newest_received) {
    std::atomic<int64_t>& newest = ScratchFor(prepared.partition).newest_received_ms;
    int64_t ms = prepared.newest_received->time_since_epoch().count();
    if (ms > newest.load()) newest.store(ms);  // one committer per partition
  }
  return Status::Ok();
}

std::optional<TimePoint> BatchPipeline::NewestReceived(int partition) {
  int64_t ms = ScratchFor(partition).newest_received_ms.load();
  if (ms == std::numeric_limits<int64_t>::min()) return std::nullopt;
  return TimePoint(std::chrono::milliseconds(ms));
}

}  // namespace tokenmeter
