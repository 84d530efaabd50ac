// Retention: the StateOptions that make the dedup and events families expire per a
// RetentionConfig. A dedup record expires `dedup_days` after its first_seen_ms; an
// event row `events_days` after the occurredAt in its key. Rows whose time cannot be
// read are kept.
#ifndef TOKENMETER_PROCESSOR_STATE_RETENTION_H_
#define TOKENMETER_PROCESSOR_STATE_RETENTION_H_

#include "state_store.h"
#include "tokenmeter/processor/retention_config.h"

namespace tokenmeter {

// `clock` (may be null: the system clock) must outlive the store opened with the result.
StateOptions RetentionStateOptions(const RetentionConfig& retention, const Clock* clock);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_STATE_RETENTION_H_
