#include "pipeline.h"

#include <algorithm>
#include <map>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "aggregate/batch_rollups.h"
#include "aggregate/rollup.h"
#include "cleanup/data_cleanup.h"
#include "dedup/batch_dedup.h"
#include "dedup/dedup_record.h"
#include "emit/alert_store.h"
#include "evaluate/drift_evaluator.h"
#include "evaluate/spend_evaluator.h"
#include "price/cost_calculator.h"
#include "state/fixed_codec.h"
#include "events/stored_event.h"
#include "tokenmeter/base/crash_point.h"
#include "tokenmeter/base/enum_names.h"
#include "tokenmeter/base/log.h"

namespace tokenmeter {
namespace {

// Counters one new event adds to each of its rollup rows, into `c` (reused between events).
void FillCounters(const UsageEvent& e, const Cost& cost, RollupCounters& c) {
  CountersOfCall(e, cost.total ? std::optional<int64_t>(cost.total->value) : std::nullopt, c);
}

}  // namespace

std::string_view DeadLetterReasonName(DeadLetterReason r) {
  static constexpr EnumNames<DeadLetterReason, static_cast<size_t>(DeadLetterReason::kCount)>
      kNames({"malformed", "invalid_event", "wrong_key", "conflict", "unreadable_dedup_record"});
  return kNames.Name(r);
}

BatchPipeline::BatchPipeline(StateStore& store, DedupIndex& dedup, RollupJournal& rollups, const EventParser& parser,
                             std::shared_ptr<const PriceBook> prices, std::string topic,
                             std::shared_ptr<const LiveRules> rules, const Clock* clock,
                             std::chrono::milliseconds dedup_window)
    : store_(store), dedup_(dedup), rollups_(rollups), parser_(parser), prices_(std::move(prices)), topic_(std::move(topic)),
      rules_(rules ? std::move(rules)
                   : std::make_shared<const LiveRules>(std::make_shared<const AlertRules>(AlertingConfig{}))),
      clock_(clock ? clock : &system_clock_), dedup_window_(dedup_window) {}

void BatchPipeline::SetPrices(std::shared_ptr<const PriceBook> prices) {
  std::lock_guard lock(prices_mu_);
  prices_ = std::move(prices);
}

BatchPipeline::Scratch& BatchPipeline::ScratchFor(int partition) {
  std::lock_guard lock(scratch_mu_);
  std::unique_ptr<Scratch>& s = scratch_[partition];
  if (!s) s = std::make_unique<Scratch>();
  return *s;
}

void BatchPipeline::Decode(const std::vector<ConsumedRecord>& messages, DecodedBatch& batch,
                           const SplitRunner* split) const {
  std::vector<Decoded>& decoded = batch.records;
  if (decoded.size() < messages.size()) decoded.resize(messages.size());
  for (BatchRollups& lane : batch.lanes) lane.Reset();  // the last batch's sums
  std::shared_ptr<const PriceBook> book;
  {
    std::lock_guard lock(prices_mu_);
    book = prices_;
  }
  const PriceBook& prices = *book;
  auto decode = [&](size_t begin, size_t end) {
    thread_local std::string record;  // the record being parsed in place
    thread_local RollupCounters counters;  // one event's, refilled per event
    BatchRollups& lane = batch.lanes[begin == 0 ? 0 : 1];
    for (size_t i = begin; i < end; ++i) {
      const ConsumedRecord& m = messages[i];
      Decoded& d = decoded[i];
      ClearKeepingCapacity(d.event);  // the last batch's; its buffers stay
      d.reason.clear();
      d.kind = DeadLetterReason::kInvalidEvent;
      RecordStatus parsed = parser_.ParseCanonical(m.value, d.event, record);
      if (!parsed.ok()) {
        d.reason = std::move(parsed.message);
        d.kind = parsed.fault == RecordFault::kMalformed ? DeadLetterReason::kMalformed
                                                         : DeadLetterReason::kInvalidEvent;
      } else if (d.event.workspace != m.key) {
        d.reason = "record key \"" + m.key + "\" is not the event's workspace";
        d.kind = DeadLetterReason::kWrongKey;
      }
      d.ok = d.reason.empty();
      if (!d.ok) continue;
      const UsageEvent& e = d.event;
      d.fingerprint = Fingerprint(e);
      d.dedup_key.clear();
      AppendDedupKey(e.workspace, e.request_id, d.dedup_key);
      d.dedup_hash = DedupIdHash(d.dedup_key);
      // Priced, encoded and summed into its 1-minute rows before dedup decides (wasted for
      // a copy, which Prepare takes back) so that it runs beside the in-order steps: done
      // after dedup on the consume thread, it cost serve's read-ahead path ~12% of its rate
      // though less CPU (benchmarks/results/2026-12-07-pipeline-order.md).
      d.cost = PriceEvent(e, prices);
      d.row_key.clear();
      AppendEventKey(e, d.row_key);
      d.row_value.clear();
      EncodeStoredEvent(e, d.cost, prices.version(), d.row_value);
      FillCounters(e, d.cost, counters);
      lane.Add(e, counters, /*duplicate_only=*/false);
    }
  };
  if (split != nullptr) {
    (*split)(messages.size(), decode);
  } else {
    decode(0, messages.size());
  }
}

Result<PreparedBatch> BatchPipeline::Prepare(int partition, const std::vector<ConsumedRecord>& messages,
                                             const SplitRunner* split) {
  DecodedBatch& decoded = ScratchFor(partition).decoded;
  Decode(messages, decoded, split);
  return Prepare(partition, messages, decoded);
}

Result<PreparedBatch> BatchPipeline::Prepare(int partition, const std::vector<ConsumedRecord>& messages,
                                             DecodedBatch& batch) {
  std::vector<Decoded>& decoded = batch.records;
  PreparedBatch out(store_.NewBatch());
  out.partition = partition;
  Result<std::optional<int64_t>> stored = store_.NextOffset(topic_, partition);
  if (!stored.ok()) return stored.status();
  const int64_t next = stored->value_or(0);

  // 1. Skip what this store already committed (a prefix: offsets are in order).
  size_t first = 0;
  while (first < messages.size() && messages[first].offset < next) ++first;
  out.stats.redelivered = first;
  out.stats.consumed = messages.size() - first;
  if (first == messages.size()) return out;
  Scratch& scratch = ScratchFor(partition);
  std::vector<RecordOutcome>& outcome_of = out.stats.applied.emplace_back().outcomes;  // [j - first]
  out.stats.applied.back().partition = partition;
  out.stats.applied.back().first_offset = messages[first].offset;
  outcome_of.resize(messages.size() - first);
  auto dead_letter = [&](size_t j, std::string reason, DeadLetterReason kind) {
    const ConsumedRecord& m = messages[j];
    out.dead_letters.push_back({partition, m.offset, m.value, std::move(reason), kind});
    ++out.stats.dead_by_reason[static_cast<size_t>(kind)];
    outcome_of[j - first].verdict =
        kind == DeadLetterReason::kConflict ? RecordVerdict::kConflict : RecordVerdict::kRejected;
  };

  // 2. Decoded (by Decode): what did not decode or validate is dead-lettered.
  std::vector<uint32_t>& valid = scratch.valid;
  std::vector<DedupInput>& inputs = scratch.inputs;
  valid.clear();
  inputs.clear();
  for (size_t j = first; j < messages.size(); ++j) {
    Decoded& d = decoded[j];
    if (!d.ok) {
      dead_letter(j, std::move(d.reason), d.kind);
      continue;
    }
    valid.push_back(static_cast<uint32_t>(j));
    const TimePoint received = d.event.received_at;
    inputs.push_back({d.dedup_key, d.dedup_hash, d.fingerprint, received.time_since_epoch().count()});
    if (!out.newest_received || received > *out.newest_received) out.newest_received = received;
  }

  // 3. Dedup: each valid event new, a duplicate, a conflict or unreadable, in arrival order.
  std::vector<DedupOutcome>& outcomes = scratch.outcomes;
  RETURN_IF_ERROR(scratch.dedup.Decide(store_, dedup_, inputs, dedup_window_, outcomes));
  std::vector<uint32_t>& rows = scratch.rows;  // the new events
  rows.clear();
  for (size_t i = 0; i < valid.size(); ++i) {
    if (outcomes[i].verdict == DedupVerdict::kNew) rows.push_back(valid[i]);
  }

  // 4-5. Price and aggregate: Decode priced every valid event and summed its 1-minute
  // rows; what is not new (redelivered, a copy, not applied) is taken back here, so the
  // sums hold the new events only.
  BatchRollups& rollups = batch.lanes[0];
  rollups.Absorb(batch.lanes[1]);
  RollupCounters counters;  // one event's, refilled per event
  auto take_back = [&](const Decoded& d) {
    FillCounters(d.event, d.cost, counters);
    rollups.Remove(d.event, counters);
  };
  for (size_t j = 0; j < first; ++j) {
    if (decoded[j].ok) take_back(decoded[j]);
  }

  // 5 (duplicates) and 6. Evaluate, in arrival order: a copy counts as a duplicate where
  // its original is counted; a new event goes to the budgets, plan usage and detectors.
  std::unordered_set<std::string_view> seen_workspaces;  // a copy in out.workspaces each
  const std::shared_ptr<const AlertRules> rules = rules_->Current();  // one set for the batch
  SpendEvaluator spend(store_, *rules);
  DriftEvaluator drift(store_, rollups_, *rules);
  for (size_t i = 0; i < valid.size(); ++i) {
    Decoded& d = decoded[valid[i]];
    UsageEvent& e = d.event;
    const DedupOutcome& o = outcomes[i];
    if (o.verdict != DedupVerdict::kNew) take_back(d);
    switch (o.verdict) {
      case DedupVerdict::kUnreadable:
        // Not applied and the stored row kept: a corrupt record must not turn an event
        // that may already be counted into a new one.
        dead_letter(valid[i],
                    "the stored dedup record of request_id \"" + e.request_id +
                        "\" cannot be read (" + std::to_string(o.unreadable_bytes) +
                        " bytes); event not applied",
                    DeadLetterReason::kUnreadableRecord);
        continue;
      case DedupVerdict::kConflict:
        ++out.stats.conflicts;
        dead_letter(valid[i],
                    "request_id \"" + e.request_id +
                        "\" was first recorded with other content; this copy is not applied",
                    DeadLetterReason::kConflict);
        continue;  // another call under a used id: no attempt, no retry of the original
      case DedupVerdict::kDuplicate: {
        ++out.stats.duplicates;
        outcome_of[valid[i] - first].verdict = RecordVerdict::kSkipped;
        if (e.occurred_at_defaulted) {
          // A copy without a time of its own is counted where the original is, as a timed
          // copy is: the retries of a minute's calls stay in that minute.
          std::optional<int64_t> original =
              o.original == DedupOutcome::kStored
                  ? EventKeyTime(o.stored_event_key)
                  : std::optional<int64_t>(
                        decoded[valid[o.original]].event.occurred_at.time_since_epoch().count());
          if (original) e.occurred_at = TimePoint(std::chrono::milliseconds(*original));
        }
        RollupCounters dup;
        dup.v[kDuplicates] = 1;
        rollups.Add(e, dup, /*duplicate_only=*/true);
        continue;
      }
      case DedupVerdict::kNew:
        break;
    }
    outcome_of[valid[i] - first] = {RecordVerdict::kInserted, !d.cost.total};
    if (!d.cost.total) ++out.stats.unpriced;
    RETURN_IF_ERROR(spend.Add(e, d.cost.total));
    drift.Observe(e);
    if (seen_workspaces.insert(e.workspace).second) out.workspaces.push_back(e.workspace);
    ++out.stats.counted;
  }
  out.stats.dead_lettered = out.dead_letters.size();
  std::sort(out.workspaces.begin(), out.workspaces.end());

  // 6 (detectors) and 7. Emit: closed minutes are evaluated with the batch's deltas; each
  // decided alert and its deliveries join the same batch as its cause.
  RollupDeltas deltas = rollups.Finish();
  out.alerts = spend.Finish(out.batch);
  RETURN_IF_ERROR(drift.Finish(deltas, out.batch, out.alerts));
  TimePoint now = clock_->Now();
  for (const Alert& a : out.alerts) {
    AlertStore::Emit(out.batch, a, rules->SinksFor(a), now, next_alert_seq_.fetch_add(1));
    ++out.stats.alerts_by_type[static_cast<size_t>(a.type)];
  }

  // 8. Stage everything, and the next offset, in one batch. Each new row's key time is
  // raised to the floor, one past every key the batches before wrote, so a flushed file
  // never overlaps an earlier one (edge threads stamp receive times a little out of order,
  // and partitions interleave); the dedup records are encoded from the keys their rows
  // are stored under. Rows go in key order per family, for RocksDB's sequential-insert
  // hint in the memtable.
  int64_t floor = event_key_floor_ms_.load(std::memory_order_relaxed);
  int64_t top = floor;
  for (uint32_t j : rows) {
    std::string& key = decoded[j].row_key;
    const int64_t t =
        std::max<int64_t>(decoded[j].event.received_at.time_since_epoch().count(), floor);
    StoreBigEndian64(key.data() + 1, static_cast<uint64_t>(t));
    top = std::max(top, t + 1);
  }
  while (floor < top &&
         !event_key_floor_ms_.compare_exchange_weak(floor, top, std::memory_order_relaxed)) {
  }
  std::sort(rows.begin(), rows.end(),
            [&decoded](uint32_t a, uint32_t b) { return decoded[a].row_key < decoded[b].row_key; });
  for (uint32_t j : rows) out.batch.Put(Family::kEvents, decoded[j].row_key, decoded[j].row_value);
  scratch.dedup.Stage(dedup_, out.batch, [&](uint32_t input) -> std::string_view {
    return decoded[valid[input]].row_key;
  });
  Result<RollupJournal::Staged> staged = rollups_.Stage(out.batch, deltas);
  if (!staged.ok()) return staged.status();
  out.rollups = std::move(*staged);
  out.batch.SetNextOffset(topic_, partition, messages.back().offset + 1);
  out.has_changes = true;
  return out;
}

Result<PreparedBatch> BatchPipeline::PrepareCommand(int partition, const ConsumedRecord& m) {
  PreparedBatch out(store_.NewBatch());
  out.partition = partition;
  Result<std::optional<int64_t>> stored = store_.NextOffset(topic_, partition);
  if (!stored.ok()) return stored.status();
  if (m.offset < stored->value_or(0)) {
    out.stats.redelivered = 1;
    return out;
  }
  out.stats.consumed = 1;
  BatchStats::Applied& applied = out.stats.applied.emplace_back();
  applied.partition = partition;
  applied.first_offset = m.offset;
  applied.outcomes.push_back({RecordVerdict::kInserted, false});
  std::optional<CleanupCommand> command = DecodeCleanupCommand(m.value);
  std::string fault = !command                          ? "not a command record this build reads"
                      : command->workspace != m.key    ? "record key \"" + m.key + "\" is not the command's workspace"
                                                        : "";
  if (!fault.empty()) {
    const DeadLetterReason kind = command ? DeadLetterReason::kWrongKey : DeadLetterReason::kMalformed;
    out.dead_letters.push_back({partition, m.offset, m.value, std::move(fault), kind});
    ++out.stats.dead_by_reason[static_cast<size_t>(kind)];
    out.stats.dead_lettered = 1;
    applied.outcomes[0].verdict = RecordVerdict::kRejected;
  } else {
    BatchRollups rollups;
    Result<CleanupOutcome> cleaned = StageCleanup(store_, dedup_, *command, out.batch, rollups);
    if (!cleaned.ok()) return cleaned.status();
    Result<RollupJournal::Staged> staged = rollups_.Stage(out.batch, rollups.Finish());
    if (!staged.ok()) return staged.status();
    out.rollups = std::move(*staged);
    out.batch.Put(Family::kMeta, CleanupResultKey(command->workspace, command->id),
                  CleanupResultJson(*command, *cleaned, clock_->Now().time_since_epoch().count()));
    CrashPoint("cleanup_staged");
    Log(LogLevel::kInfo, "processor", "cleanup_applied",
        {{"cleanup_id", command->id}, {"workspace", command->workspace},
         {"data_mode", std::string(DataModeName(command->mode))}, {"events", std::to_string(cleaned->events)},
         {"retries", std::to_string(cleaned->retries)}});
  }
  out.batch.SetNextOffset(topic_, partition, m.offset + 1);
  out.has_changes = true;
  return out;
}

Result<PreparedBatch> BatchPipeline::PrepareBudgetReview(const std::string& workspace, const std::string& budget_id) {
  const std::shared_ptr<const AlertRules> rules = rules_->Current();
  PreparedBatch out(store_.NewBatch());
  const BudgetConfig* b = rules->FindBudget(workspace, budget_id);
  if (b == nullptr) return out;
  const TimePoint now = clock_->Now();
  const TimePoint start = PeriodStart(now, b->period);
  const std::string key = BudgetStateKey(workspace, b->id, start);
  Result<std::optional<std::string>> row = store_.Get(Family::kState, key);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return out;
  BudgetState state = BudgetState::Decode(**row);
  std::optional<Alert> a = EvaluateBudget(*b, rules->config(), state, start, now);
  if (!a) return out;
  out.batch.Put(Family::kState, key, state.Encode());
  AlertStore::Emit(out.batch, *a, rules->SinksFor(*a), now, next_alert_seq_.fetch_add(1));
  ++out.stats.alerts_by_type[static_cast<size_t>(a->type)];
  out.alerts.push_back(std::move(*a));
  out.workspaces = {workspace};
  out.has_changes = true;
  return out;
}

Result<PreparedBatch> BatchPipeline::PreparePlanReview(const std::string& workspace) {
  const std::shared_ptr<const AlertRules> rules = rules_->Current();
  PreparedBatch out(store_.NewBatch());
  const PlanLimit* plan = rules->PlanFor(workspace);
  if (plan == nullptr) return out;
  const TimePoint now = clock_->Now();
  const TimePoint month = PeriodStart(now, BudgetPeriod::kMonth);
  Result<int64_t> used = ReadPlanUsage(store_, PlanUsageKey(workspace, month));
  if (!used.ok()) return used.status();
  if (*used == 0 || *used < plan->requests_per_month) return out;
  Alert a = PlanLimitAlert(*plan, month, *used, now);
  Result<bool> decided = AlertStore::Decided(store_, a.id);
  if (!decided.ok()) return decided.status();
  if (*decided) return out;
  AlertStore::Emit(out.batch, a, rules->SinksFor(a), now, next_alert_seq_.fetch_add(1));
  ++out.stats.alerts_by_type[static_cast<size_t>(a.type)];
  out.alerts.push_back(std::move(a));
  out.workspaces = {workspace};
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
