// The processor's state options: what the stages' rows need of the store, given to it at
// open (state/ knows no stage): the rollups family's merge operator, and retention, which
// makes the dedup, events and rollups families expire per a RetentionConfig. A dedup
// record expires `dedup_days` after its first_seen_ms; an event row `events_days` after
// the occurredAt in its key; a rollup row its granularity's days after its bucket ends.
// Rows whose time cannot be read are kept.
#ifndef TOKENMETER_PROCESSOR_RETENTION_H_
#define TOKENMETER_PROCESSOR_RETENTION_H_

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "state/state_store.h"
#include "tokenmeter/processor/retention_config.h"

namespace tokenmeter {

// The dedup family's "now" for compactions. A record may be dropped only when no copy
// still to be consumed can match it. A caught-up partition's next copies are received
// about now; a partition still behind (a rebuild from a long log, a long outage) can
// bring copies as old as the newest it has committed. So the horizon is the wall clock
// held back to the newest committed receive time of each partition still behind, and
// unknown (nothing dropped) until the first Update or while a partition behind has
// committed nothing in this process yet.
class DedupHorizon {
 public:
  // `lag`: records not yet consumed per owned partition, as far as known (a partition of
  // `assigned` missing from it counts as behind). `newest(p)`: the newest receive time
  // committed for partition p by this process.
  void Update(TimePoint now, const std::set<int>& assigned, const std::map<int, int64_t>& lag,
              const std::function<std::optional<TimePoint>(int)>& newest);
  std::optional<int64_t> Get() const;

 private:
  static constexpr int64_t kUnknown = std::numeric_limits<int64_t>::min();
  std::atomic<int64_t> ms_{kUnknown};
};

// The options every processor store is opened with: the rollups' merge operator and, with
// `retention`, the expiry of the dedup and events families. `clock` (may be null: the
// system clock) and `horizon` (may be null: the dedup family counts from the clock) must
// outlive the store opened with the result.
StateOptions ProcessorStateOptions(const RetentionConfig* retention = nullptr,
                                   const Clock* clock = nullptr,
                                   const DedupHorizon* horizon = nullptr);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_RETENTION_H_
