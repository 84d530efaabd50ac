// RollupJournal: how a batch's rollup deltas reach the rollup rows. A batch does not
// merge its deltas into the rows (a merge per distinct row and batch made a 1,000-event
// batch cost twice as much per event as a 10,000-event one): it writes its 1-minute
// deltas as journal rows of its own WriteBatch (meta family), durable with the batch
// and its offset, and publishes them here once committed. Fold() later adds everything
// published into the minute, hour and day rows of the rollups family with merges and
// deletes the journal rows it covered, in one WriteBatch: a crash before it leaves the
// journal rows (Load() reads them back), a crash after leaves neither. A row is thus
// written once per fold, however many batches touched it.
//
// Readers (Scan) add the published deltas not yet folded to the stored rows, so a batch
// is visible to queries as soon as it is committed and published.
// Exactly once, whenever the fold lands: published deltas go to the open generation;
// Fold closes it (new deltas go to a fresh one) and commits it in chunks of at most
// `fold_chunk_rows` minute rows in key order, each WriteBatch holding those rows, the hour
// and day rows derived from them, and a "fold progress" row (the generation's number, its
// last minute row folded, its journal rows); the last chunk deletes the journal rows,
// writes the generation's number in a "folded" marker and drops the progress row. A
// reader takes a RocksDB snapshot and copies the generations' rows under a shared lock; it
// adds the closed one only when the marker in its snapshot does not cover it yet, and then
// only its rows past the progress in that snapshot. A fold cut short by a crash is
// finished by Open, from its journal rows less what the progress row says was folded,
// before anything else is read.
//
// Memory: the open and closed generations hold one entry per distinct 1-minute row
// published since the last fold; a chunk's WriteBatch and hour/day rows are bounded by
// `fold_chunk_rows`. When more than `max_pending_rows` wait (folds are behind or
// failing), Stage refuses new batches (Unavailable): they are retried, and memory stays
// bounded.
//
// Thread: Stage from the batch threads; Publish, Fold, Scan and PendingRows from any
// thread (one mutex guards the generations; folds run one at a time).
#ifndef TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_JOURNAL_H_
#define TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_JOURNAL_H_

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "rollup.h"
#include "rollup_scan.h"
#include "state/state_store.h"

namespace tokenmeter {

class RollupJournal {
 public:
  // ~300 bytes a row: at most ~150 MiB however long folds fail (a second of 100k events/s
  // holds ~20-60k rows).
  static constexpr size_t kDefaultMaxPendingRows = 500'000;
  // Minute rows a fold commits per WriteBatch (with up to twice as many hour and day rows:
  // ~10 MB of batch).
  static constexpr size_t kDefaultFoldChunkRows = 20'000;
  // Finishes a fold a crash cut short, then reads back the journal rows a previous run
  // committed and did not fold, as published. Internal error when a row cannot be decoded
  // (its counts would be lost).
  static Result<std::unique_ptr<RollupJournal>> Open(StateStore& store,
                                                     size_t max_pending_rows = kDefaultMaxPendingRows,
                                                     size_t fold_chunk_rows = kDefaultFoldChunkRows);

  // One batch's deltas, staged in its WriteBatch, to Publish once that batch committed.
  struct Staged {
    uint64_t seq = 0;
    std::vector<std::string> parts;  // the journal rows written (the deltas split by size)
  };
  // Writes `minutes` (1-minute rows, see BatchRollups) as journal rows of `batch`, one per
  // ~256 KiB (nothing when empty). Nothing refers to `minutes` once it returns.
  Result<Staged> Stage(StateStore::Batch& batch, const RollupDeltas& minutes);
  // The batch holding `staged` is committed: its deltas become visible and due for a fold.
  // A batch that failed to commit is never published (its journal row does not exist).
  void Publish(Staged staged);

  // Folds every published delta into the rollups family (chunks of WriteBatches, not
  // synced: a fold lost in a crash leaves its journal rows and its progress, and is
  // finished at the next Open). OK when there is nothing to fold. On failure the closed
  // generation stays visible and its fold goes on from the last chunk committed at the next
  // call. `max_chunks`: commit at most that many chunks now, the rest at the next call.
  Status Fold(size_t max_chunks = SIZE_MAX);

  // fn(bucket, scope, value, counters) for the rows of `r` whose value `want` wants
  // (ValueFilter: all by default): folded rows, then the published deltas not yet folded.
  // A (bucket, scope, value) may come more than once; callers add the counters up.
  template <typename Fn>
  Status Scan(const RollupRange& r, Fn fn, ValueFilter want = {}) const;

  // The rows of `r` as one view, for a reader that pages through them: `at`, the snapshot
  // to read the folded rows at, and `unfolded`, the published deltas not yet folded in it,
  // summed per row and keyed as the folded rows are (so the two merge in key order). Holds
  // at most the rows pending a fold.
  Status Unfolded(const RollupRange& r, std::unique_ptr<StateStore::Snapshot>& at,
                  std::map<std::string, RollupCounters, std::less<>>& unfolded) const;

  // Distinct 1-minute rows published and not yet folded.
  size_t PendingRows() const { return pending_rows_.load(std::memory_order_relaxed); }

 private:
  RollupJournal(StateStore& store, size_t max_pending_rows, size_t fold_chunk_rows);
  struct Generation {
    uint64_t id = 0;
    std::map<std::string, RollupCounters, std::less<>> minutes;
    std::vector<std::string> rows;  // keys of the journal rows whose deltas it holds
  };
  struct PendingRow {
    TimePoint bucket;
    std::string environment, project, value;
    RollupCounters counters;
  };
  // Takes the snapshot the stored rows are read at and copies the unfolded deltas of `r`.
  Status Pending(const RollupRange& r, std::unique_ptr<StateStore::Snapshot>& at,
                 std::vector<PendingRow>& out) const;
  // Adds the rows of a journal row to `g` and returns how many were new to it; nullopt
  // when `part` cannot be read (rows before the unreadable one may have been added).
  static std::optional<size_t> AddTo(Generation& g, std::string_view part);
  // Commits up to `max_chunks` chunks of `g`'s rows after `through` (moved on as they
  // commit); `done` once the last one, with the journal rows and the marker, committed.
  Status FoldChunks(const Generation& g, std::string& through, size_t max_chunks, bool& done);
  // The progress of a fold cut short, from the progress row at `at`: its generation and the
  // last minute row it folded; nullopt when none.
  struct Progress {
    uint64_t id = 0;
    std::string through;
    std::vector<std::string> rows;  // the generation's journal rows
  };
  Result<std::optional<Progress>> ReadProgress(const StateStore::Snapshot* at) const;

  StateStore& store_;
  const size_t max_pending_rows_;
  const size_t fold_chunk_rows_;
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<size_t> pending_rows_{0};
  mutable std::shared_mutex mu_;
  std::unique_ptr<Generation> open_;
  std::shared_ptr<const Generation> closed_;  // being folded, or failed to fold
  std::mutex fold_mu_;
  std::string folded_through_;  // under fold_mu_: the closed generation's last row committed
};

template <typename Fn>
Status RollupJournal::Scan(const RollupRange& r, Fn fn, ValueFilter want) const {
  std::unique_ptr<StateStore::Snapshot> at;
  std::vector<PendingRow> pending;
  RETURN_IF_ERROR(Pending(r, at, pending));
  RETURN_IF_ERROR(ScanRollupRange(store_, r, fn, at.get(), want));
  for (const PendingRow& p : pending) {
    if (want.Wants(p.value)) fn(p.bucket, RollupScope{p.environment, p.project}, std::string_view(p.value), p.counters);
  }
  return Status::Ok();
}

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_JOURNAL_H_
