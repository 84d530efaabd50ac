// BatchRollups: one batch's rollup deltas, pre-aggregated in memory before they go to
// the rollup journal (rollup_journal.h). Each event adds its counters to its 1-minute
// rows only (one hash lookup per dimension, no allocation for a row already present); the
// hour and day rows are derived from the minute rows when the journal is folded.
// Called by the processor thread that owns the batch.
#ifndef TOKENMETER_PROCESSOR_AGGREGATE_BATCH_ROLLUPS_H_
#define TOKENMETER_PROCESSOR_AGGREGATE_BATCH_ROLLUPS_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

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
  // uncommitted deltas need the order). The object keeps its rows (see Reset).
  std::map<std::string, RollupCounters> Finish() const;
  // Starts the next batch's sums. The rows the last batch counted in are kept, zeroed, with
  // their keys' and sketches' buffers (the next batch mostly counts in the same rows: no
  // allocation, no page to fault in); the rest are dropped.
  void Reset();

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // Adds `c` to the row of the current event's key (Add) with dimension `d` and `value`.
  void AddRow(Dimension d, std::string_view value, const RollupCounters& c);

  std::unordered_map<std::string, RollupCounters, Hash, std::equal_to<>> minutes_;
  std::string key_;       // reused for every lookup
  size_t dimension_at_ = 0;  // in key_: the dimension byte
  size_t value_at_ = 0;      // in key_: where the value starts
  RollupCounters negated_;  // Remove's, reused
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_AGGREGATE_BATCH_ROLLUPS_H_
