// QueryApi: the read side (DESIGN.md "Query API"), answered from the rollups (through the
// rollup journal, so deltas not yet folded count) and events families. Every request is authenticated with a read key (owner, admin or member); the
// key's workspace is the only one a request can see.
//
//   GET /v1/dashboard/overview | top-endpoints | top-users | top-tenants |
//       prompt-versions | models | timeseries
//       ?range=1h|6h|24h|7d|30d (default 24h) or from=&to= (RFC 3339)
//       &dataMode=real|test|demo|all (default real) &environment=E &project=P (overview,
//       timeseries) &limit=N (1..1000, default 10) &sort=cost|requests|tokens
//       &granularity=minute|hour|day (timeseries; default by range length)
//   GET /v1/export ?of=events|rollups &format=… (export_api.h)
//   GET /v1/events/{requestId}   404 once the id is past the dedup window or the event
//       past its retention (RetentionConfig), whether or not a compaction dropped it yet
//
// Money is returned exactly: "costUsd" as a decimal string and "costNanoUsd" as an
// integer. Thread-safe (reads only); called on HTTP I/O threads.
#ifndef TOKENMETER_PROCESSOR_QUERY_QUERY_API_H_
#define TOKENMETER_PROCESSOR_QUERY_QUERY_API_H_

#include <array>
#include <string_view>

#include "aggregate/rollup_journal.h"
#include "dedup/dedup_index.h"
#include "state/state_store.h"
#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/processor/retention_config.h"

namespace tokenmeter {

class QueryApi {
 public:
  QueryApi(const StateStore& store, const DedupIndex& dedup, const RollupJournal& rollups, const KeyRing& keys,
           const Clock& clock, RetentionConfig retention = {})
      : store_(store), dedup_(dedup), rollups_(rollups), keys_(keys), clock_(clock), retention_(retention) {}

  // The paths it serves begin with one of these (mounted as they are on a shared port).
  static constexpr std::array<std::string_view, 5> kRoutePrefixes = {"/v1/dashboard/", "/v1/events/", "/v1/models/",
                                                                     "/v1/cleanups/", "/v1/export"};
  // True if `path` is under one of them.
  static bool Serves(std::string_view path);
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  const StateStore& store_;
  const DedupIndex& dedup_;
  const RollupJournal& rollups_;
  const KeyRing& keys_;
  const Clock& clock_;
  RetentionConfig retention_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_QUERY_QUERY_API_H_
