// BatchPipeline: the processor's whole flow for one batch of one bus partition, in order:
//   skip redelivered offsets -> decode & validate (rejects to the dead-letter list) ->
//   dedup -> price -> aggregate -> evaluate budgets and plan limits -> emit the alerts
//   they decide to the outbox -> one WriteBatch with the state changes, the rollup
//   journal row, the alerts and the next offset.
// Two phases so nothing is lost: Prepare() builds everything; the caller publishes the
// dead letters durably; Commit() writes the batch. A crash before Commit() leaves state
// and offsets untouched, and the bus redelivers the same records.
//
// Thread: Prepare() may run concurrently for different partitions: partitions never
// share workspaces (the record key is the workspace), so their batches read and write
// disjoint keys (never for the same partition at once). Commit() calls are made by one
// thread.
#ifndef TOKENMETER_PROCESSOR_PIPELINE_H_
#define TOKENMETER_PROCESSOR_PIPELINE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate/batch_rollups.h"
#include "aggregate/rollup_journal.h"
#include "dedup/batch_dedup.h"
#include "dedup/dedup_record.h"
#include "evaluate/alert_rules.h"
#include "price/cost_calculator.h"
#include "price/price_book.h"
#include "state/state_store.h"
#include "tokenmeter/bus/record_outcomes.h"
#include "tokenmeter/bus/subscriber.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/processor/retention_config.h"

namespace tokenmeter {

// Why a record went to the dead-letter topic instead of the state. The last two are
// quarantines of well-formed events: kConflict, a reused request id whose content
// differs from the recorded original (counted as a conflict, not applied);
// kUnreadableRecord, an id whose stored dedup record cannot be decoded, so whether this
// copy was already counted is unknown (not applied: never counted twice).
enum class DeadLetterReason : uint8_t {
  kMalformed, kInvalidEvent, kWrongKey, kConflict, kUnreadableRecord, kCount
};
std::string_view DeadLetterReasonName(DeadLetterReason r);

struct DeadLetter {
  int partition = 0;
  int64_t offset = 0;
  std::string value;
  std::string reason;  // human text
  DeadLetterReason kind = DeadLetterReason::kInvalidEvent;
};

struct BatchStats {
  size_t consumed = 0;     // records at or past the stored offset
  size_t redelivered = 0;  // records below it, skipped
  size_t counted = 0;      // new events applied
  size_t duplicates = 0;
  size_t conflicts = 0;    // duplicates whose content differs from the original
  size_t dead_lettered = 0;
  std::array<size_t, static_cast<size_t>(DeadLetterReason::kCount)> dead_by_reason{};
  size_t unpriced = 0;
  std::array<size_t, static_cast<size_t>(AlertType::kCount)> alerts_by_type{};
  std::vector<std::string> workspaces;  // with new events (RunOnce: over all partitions)
  // What became of each record consumed (not redelivered), from `first_offset` on, per
  // partition batch (RunOnce: every partition's).
  struct Applied {
    int partition = 0;
    int64_t first_offset = 0;
    std::vector<RecordOutcome> outcomes;
  };
  std::vector<Applied> applied;
};

struct PreparedBatch {
  explicit PreparedBatch(StateStore::Batch b) : batch(std::move(b)) {}
  StateStore::Batch batch;
  std::vector<DeadLetter> dead_letters;
  BatchStats stats;
  bool has_changes = false;  // false: nothing to commit (all redelivered or empty)
  std::vector<Alert> alerts;                // decided in this batch, in order
  std::vector<std::string> workspaces;      // workspaces with new events, sorted, unique
  RollupJournal::Staged rollups;            // published by Commit once committed
  int partition = 0;
  std::optional<TimePoint> newest_received;  // the latest receive time among its records
};

// Runs work(begin, end) over [0, n) in two halves at once, one on the calling thread and
// one on another, and returns when both are done.
using SplitRunner = std::function<void(size_t n, const std::function<void(size_t, size_t)>& work)>;

class BatchPipeline {
 public:
  // `rules` may be null (no budgets or plans; each batch takes the set in force when it
  // starts); `clock` stamps outbox rows. `dedup` indexes
  // the store's dedup family, and the batches' rollup deltas go through `rollups` (over
  // the same store). A copy received more than
  // `dedup_window` after its id's first sighting is a new call (its record replaced),
  // whether or not a compaction has dropped the old record yet.
  BatchPipeline(StateStore& store, DedupIndex& dedup, RollupJournal& rollups, const EventParser& parser,
                std::shared_ptr<const PriceBook> prices, std::string topic,
                std::shared_ptr<const LiveRules> rules = nullptr, const Clock* clock = nullptr,
                std::chrono::milliseconds dedup_window = RetentionConfig{}.dedup_window());

  // One record's own work, which needs no other record and no state: decoded,
  // validated, fingerprinted, priced and its events-family row encoded.
  struct Decoded {
    UsageEvent event;
    bool ok = false;     // a valid event of its record's workspace; else:
    std::string reason;  // why it goes to the dead-letter topic
    DeadLetterReason kind = DeadLetterReason::kInvalidEvent;
    uint64_t fingerprint = 0;
    std::string dedup_key;    // its id (DedupKey)
    uint64_t dedup_hash = 0;  // DedupIdHash of the id
    Cost cost;
    std::string row_key, row_value;  // its events-family row, written if it is new
  };
  // A batch as Decode leaves it: each record's own work, and the 1-minute rollup rows of
  // its valid events summed as if every one were new, one sum per thread that decoded
  // (lanes[0]: the range from the first record; lanes[1]: the split's other half).
  // Prepare merges them and takes back the events that turn out not to be new (one row
  // update per copy instead of ~9 per new event on the in-order path).
  struct DecodedBatch {
    std::vector<Decoded> records;
    std::array<BatchRollups, 2> lanes;
  };
  // records[i] for messages[i] (`records` grows as needed and is never shrunk, so its
  // strings keep their buffers between batches). With `split` (two halves), on two
  // threads. Any thread; several at once into different batches.
  void Decode(const std::vector<ConsumedRecord>& messages, DecodedBatch& decoded,
              const SplitRunner* split = nullptr) const;
  // `messages` belong to `partition`, in offset order; `decoded` is Decode's result for
  // them (consumed: its dead-letter reasons and rollup sums are moved out). Everything
  // that depends on the order of the records or on the state happens here, in the flow's
  // order.
  Result<PreparedBatch> Prepare(int partition, const std::vector<ConsumedRecord>& messages,
                                DecodedBatch& decoded);
  // Decode, then the above (the decoded records kept per partition).
  Result<PreparedBatch> Prepare(int partition, const std::vector<ConsumedRecord>& messages,
                                const SplitRunner* split = nullptr);
  // A command record (IsCommandRecord) of `partition`, in a batch of its own (the caller
  // cuts its batches around commands, so what came before it is committed and what comes
  // after is not): a cleanup's removals (cleanup/data_cleanup.h), its result row and the
  // next offset, one WriteBatch like any batch. Skipped when already committed; a record
  // that is no command this build reads, or of another workspace than its key, is
  // dead-lettered.
  Result<PreparedBatch> PrepareCommand(int partition, const ConsumedRecord& record);
  // After the rules changed for a budget of `workspace` (made, raised or lowered through
  // the admin API): its state for the current period, if this store holds one (this
  // processor counts the workspace's events), evaluated anew at the clock's time, and the
  // alert that decides (exceeded when lowered under its spend, resolved when raised over
  // it) emitted with it in one batch. No state, or nothing decided: nothing to commit.
  Result<PreparedBatch> PrepareBudgetReview(const std::string& workspace, const std::string& budget_id);
  // After the plan limit of `workspace` changed: if this store counts its requests and this
  // month's already reach the new limit, the plan_limit_reached alert (once a month: not if
  // this month's is decided already), in one batch.
  Result<PreparedBatch> PreparePlanReview(const std::string& workspace);
  // `sync`: see StateStore::Commit; a caller committing several partitions' batches in a
  // row syncs once, after the last. Once committed, the batch's rollup deltas are
  // published to the journal (visible to readers).
  Status Commit(PreparedBatch& prepared, bool sync = true);
  // The book the next batches are priced with (the settings' pricing changed); a batch
  // being decoded keeps the one it started with. Any thread.
  void SetPrices(std::shared_ptr<const PriceBook> prices);
  // The latest receive time among the records committed for `partition` through this
  // pipeline (nullopt: none yet). Any thread.
  std::optional<TimePoint> NewestReceived(int partition);

 private:
  StateStore& store_;
  DedupIndex& dedup_;
  RollupJournal& rollups_;
  const EventParser& parser_;
  mutable std::mutex prices_mu_;  // guards prices_ (the pointer)
  std::shared_ptr<const PriceBook> prices_;
  std::string topic_;
  std::shared_ptr<const LiveRules> rules_;
  const Clock* clock_;
  std::chrono::milliseconds dedup_window_;
  SystemClock system_clock_;
  std::atomic<int64_t> next_alert_seq_{0};  // Prepare may run for several partitions at once
  // The least receive time the next batch's event rows are keyed with (AppendEventKey):
  // one past the newest key written so far, across partitions.
  std::atomic<int64_t> event_key_floor_ms_{std::numeric_limits<int64_t>::min()};

  // What Prepare keeps between batches of one partition, so the batch's large buffers
  // (thousands of events of ~0.5 KiB each) are reused instead of mapped and faulted in
  // anew for every batch.
  struct Scratch {
    DecodedBatch decoded;              // for Prepare without a caller's decoded records
    std::vector<uint32_t> valid;       // indexes of the valid records, in offset order
    std::vector<DedupInput> inputs;    // valid[i]'s id, hash, fingerprint, receive time
    std::vector<DedupOutcome> outcomes;  // dedup's verdict on each
    BatchDedup dedup;
    std::vector<uint32_t> rows;        // indexes of the new events
    std::atomic<int64_t> newest_received_ms{std::numeric_limits<int64_t>::min()};  // committed
  };
  Scratch& ScratchFor(int partition);
  std::mutex scratch_mu_;
  std::map<int, std::unique_ptr<Scratch>> scratch_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PIPELINE_H_
