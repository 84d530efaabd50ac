// The events every benchmark phase sends: one deterministic stream, so the ceilings and
// the pipeline see the same bytes. Event `seq` of a stream is a function of (prefix,
// seq) alone; a duplicate repeats an earlier event exactly (same id, same content), as
// a client's retry would. Pure value code; any thread.
#ifndef TOKENMETER_BENCHMARKS_BENCH_EVENTS_H_
#define TOKENMETER_BENCHMARKS_BENCH_EVENTS_H_

#include <cstdint>
#include <string>

#include "bench_args.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter::bench {

struct StreamShape {
  std::string prefix = "b";     // request ids are "<prefix>-<n>"
  int workspaces = 1;           // "bench", or "bench00".."benchNN" when more than one
  int duplicate_every = 0;      // 0: no duplicates; k: every k-th event repeats a recent id
  int64_t start_ms = 0;         // occurred_at of event 0 (epoch ms); one event per ms after
  bool json_records = false;    // bus records in the canonical JSON form, not the edge's binary
  // A realistic workspace ("bench"): ~100k users, 1k tenants, 500 features, 100 prompt
  // versions, 50 priced models, 5 projects, 3 environments, each skewed (a few values
  // carry most calls, a long tail the rest); logical events 0..events-1 spread evenly
  // over [start_ms, start_ms + span_ms) in order; every event has its own id and time.
  bool realistic = false;
  uint64_t events = 0;
  int64_t span_ms = 0;
};

// The stream options every phase takes: --prefix, --workspaces (16), --duplicate-every
// (0), --start-ms, --record (binary, as the edge sends; or json, as a direct producer may);
// --shape realistic with --events N and --span-days D (ending at --end-ms, default now).
StreamShape ShapeFrom(const Args& a);

// The logical event (its id index) that position `seq` of the stream carries.
uint64_t LogicalIndex(const StreamShape& s, uint64_t seq);

// The canonical event for logical index `n`, as the edge would publish it.
UsageEvent CanonicalEvent(const StreamShape& s, uint64_t n);
std::string WorkspaceOf(const StreamShape& s, uint64_t n);

// Appends the bus record of `e` in the stream's record form to `out`.
void AppendBusRecord(const StreamShape& s, const UsageEvent& e, std::string& out);

// Appends the ingest (Opsmeter-dialect) JSON object of logical index `n` to `out`
// (realistic: with its timestamp, project, environment, user and tenant).
void AppendIngestEvent(const StreamShape& s, uint64_t n, std::string& out);

// The CSV header and row (realistic events, priced: cost in nano-USD) the columnar
// ceiling loads: the same events, one row per counted call.
inline constexpr const char* kEventCsvHeader =
    "request_id,occurred_ms,provider,model,feature,prompt_version,project,environment,user_id,tenant_id,"
    "input_tokens,output_tokens,status,latency_ms,cost_nano\n";
void AppendEventCsv(const UsageEvent& e, int64_t cost_nano, std::string& out);

}  // namespace tokenmeter::bench

#endif  // TOKENMETER_BENCHMARKS_BENCH_EVENTS_H_
