// BatchRollups: one batch's rollup deltas, pre-aggregated in memory before they go to
// the rollup journal (rollup_journal.h). Each event adds its counters to its 1-minute
// rows only; the hour and day rows are derived from the minute rows when the journal is
// folded. The rows live in one flat open-addressed table (a row's key in one shared
// buffer, its hash kept beside it): a lookup is a probe of a slot array and one key
// comparison, with no node, string or allocation per row.
// Called by the processor thread that owns the batch.
#ifndef TOKENMETER_PROCESSOR_AGGREGATE_BATCH_ROLLUPS_H_
#define TOKENMETER_PROCESSOR_AGGREGATE_BATCH_ROLLUPS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rollup.h"

namespace tokenmeter {

class BatchRollups {
 public:
  // Adds `c` to every dimension row of the event (only total and endpoint_tag when
  // `duplicate_only`: a duplicate is counted where a retry multiplier is read).
  void Add(const UsageEvent& e, const RollupCounters& c, bool duplicate_only);
  // Takes back what Add(e, c, false) added (the rows must hold it: every counter is a
  // sum, so the result is as if that Add had not been made).
  void Remove(const UsageEvent& e, const RollupCounters& c);
  // Adds every row of `o` (another thread's sum over other events); `o` is left as it is.
  void Absorb(const BatchRollups& o);

  // Every 1-minute row with something counted, sorted by key (range reads over
  // uncommitted deltas need the order): views of this object's rows, valid until its
  // next Add, Remove, Absorb or Reset.
  RollupDeltas Finish() const;
  // Starts the next batch's sums. The rows the last batch counted in are kept, zeroed, with
  // their keys and sketches' buffers (the next batch mostly counts in the same rows: no
  // allocation, no page to fault in); the rest are dropped.
  void Reset();

 private:
  struct Row {
    uint64_t hash;
    uint32_t key_at, key_size;  // in keys_
    RollupCounters counters;
  };
  std::string_view KeyOf(const Row& r) const {
    return std::string_view(keys_).substr(r.key_at, r.key_size);
  }
  // The row of `key` (hash `hash`), added with nothing counted if there is none.
  RollupCounters& RowFor(std::string_view key, uint64_t hash);
  // Points the slots at rows_ again, in an array of `slots` (a power of two).
  void Rehash(size_t slots);
  // Adds `c` to the row of the current event's key (Add) with dimension `d` and `value`.
  void AddRow(Dimension d, std::string_view value, const RollupCounters& c);
  // The same for a pair dimension's row: value `first` \0 `second`.
  void AddPairRow(Dimension d, std::string_view first, std::string_view second, const RollupCounters& c);

  std::string keys_;  // every row's key, back to back, in the rows' order
  std::vector<Row> rows_;
  std::vector<uint32_t> slots_;  // row index + 1 (0: empty); linear probing, at most half full
  std::string key_;              // reused for every lookup
  size_t dimension_at_ = 0;      // in key_: the dimension byte
  size_t value_at_ = 0;          // in key_: where the value starts
  RollupCounters negated_;       // Remove's, reused
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_AGGREGATE_BATCH_ROLLUPS_H_
