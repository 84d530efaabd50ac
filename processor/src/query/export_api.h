// GET /v1/export: the counted events of a window, one row per event (or, of=rollups, its rollup rows), as CSV, NDJSON, JSON
// or FOCUS-shaped CSV, streamed (HttpResponse::stream) a few hundred rows at a time from one snapshot of
// the state, so memory stays flat however many rows there are. Any thread; a stream's
// pieces are produced on the connection's I/O thread, and the store and index must outlive
// it.
#ifndef TOKENMETER_PROCESSOR_QUERY_EXPORT_API_H_
#define TOKENMETER_PROCESSOR_QUERY_EXPORT_API_H_

#include "aggregate/rollup_journal.h"
#include "dedup/dedup_index.h"
#include "state/state_store.h"
#include "tokenmeter/http/http_server.h"
#include "window.h"

namespace tokenmeter {

// The events of `key`'s workspace that occurred in the window, of its data modes, scope
// and drill-down attribute; `format` is csv, ndjson, json or focus (FinOps FOCUS columns,
// CSV) (400 otherwise). Headers
// X-Retention-Truncated and X-Retention-Available-From-Utc say whether the window reaches
// past what retention.events_days keeps.
HttpResponse ExportEvents(const StateStore& store, const DedupIndex& dedup, const KeyRecord& key, const Params& params,
                          const Window& w, TimePoint now, const RetentionConfig& retention);

// The rollup rows (of=rollups) of `key`'s workspace in the window at its granularity, of
// one dimension (`dimension`, default total; a drill-down attribute: its dimension's rows of
// that value), per bucket, data mode and scope; `format` is csv, ndjson or json. The
// retention headers say whether the window reaches past what the granularity's
// retention keeps. The store and the journal must outlive the stream.
HttpResponse ExportRollups(const StateStore& store, const RollupJournal& rollups, const KeyRecord& key,
                           const Params& params, const Window& w);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_QUERY_EXPORT_API_H_
