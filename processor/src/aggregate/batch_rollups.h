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

  // Every 1-minute row, sorted by key (range reads over uncommitted deltas need the
  // order). Leaves the object empty.
  std::map<std::string, RollupCounters> Finish();

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void AddRow(const UsageEvent& e, Dimension d, std::string_view value, const RollupCounters& c);

  std::unordered_map<std::string, RollupCounters, Hash, std::equal_to<>> minutes_;
  std::string key_;  // reused for every lookup
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_AGGREGATE_BATCH_ROLLUPS_H_
