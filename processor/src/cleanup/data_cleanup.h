// The cleanup stage: applies one CleanupCommand to the state as if the rows it removes
// had never been sent. For every stored event of the command's workspace and data mode
// (and, for the "mine" scope, ingested by one of its keys) it stages: the event's
// counters taken back from each of its rollup rows (the same rows and latency buckets
// the pipeline added, at 1-minute granularity, folded into hours and days like any
// batch's deltas), its retries taken back from the rows they were counted in (the
// original's), and the deletion of its event row and of its id's dedup record (so the
// id, sent again, is a new call). Budgets and plan usage count real events only, which a
// cleanup never touches.
//
// What it cannot reverse: rollup rows of events whose row retention already dropped
// (`retention.events_days`): the answer counts only the events it found.
// Any thread; the caller commits the batch (with its offset) and the rollup deltas.
#ifndef TOKENMETER_PROCESSOR_CLEANUP_DATA_CLEANUP_H_
#define TOKENMETER_PROCESSOR_CLEANUP_DATA_CLEANUP_H_

#include <cstdint>
#include <string>

#include "aggregate/batch_rollups.h"
#include "dedup/dedup_index.h"
#include "state/state_store.h"
#include "tokenmeter/model/cleanup_command.h"

namespace tokenmeter {

struct CleanupOutcome {
  uint64_t events = 0;   // event rows removed
  uint64_t retries = 0;  // their copies taken back from the duplicates counts
};

Result<CleanupOutcome> StageCleanup(const StateStore& store, const DedupIndex& dedup, const CleanupCommand& command,
                                    StateStore::Batch& batch, BatchRollups& rollups);

// The meta-family row that says a cleanup was applied, and its value: the JSON object
// GET /v1/cleanups/{id} answers with.
std::string CleanupResultKey(std::string_view workspace, std::string_view id);
std::string CleanupResultJson(const CleanupCommand& command, const CleanupOutcome& outcome, int64_t applied_ms);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_CLEANUP_DATA_CLEANUP_H_
