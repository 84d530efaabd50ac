// IngestLimits: every bound on ingest input, one config value each (config key
// `ingest:` in the YAML file). Immutable after startup; shared read-only across threads.
#ifndef TOKENMETER_MODEL_INGEST_LIMITS_H_
#define TOKENMETER_MODEL_INGEST_LIMITS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

struct IngestLimits {
  // Largest accepted request body in bytes; larger gets 413. Default 1 MiB.
  size_t max_body_bytes = 1 << 20;
  // Most events in one {"events":[...]} request; more gets 413. Default 1000.
  size_t max_events_per_request = 1000;
  // Deepest JSON nesting (objects + arrays) in a body; deeper gets 400. Default 16.
  int max_json_depth = 16;
  // Most members in one event object; more rejects that event. Default 64.
  size_t max_fields_per_event = 64;
  // Longest string field in bytes (request id has its own bound). Default 256.
  size_t max_string_bytes = 256;
  // Longest request id in bytes. Default 128.
  size_t max_request_id_bytes = 128;
  // Largest token count in any token field. Default 10^9.
  uint64_t max_tokens = 1'000'000'000;
  // Largest latencyMs: one day. Default 86,400,000.
  uint64_t max_latency_ms = 86'400'000;
  // Largest estimatedCostUsd in whole USD. Default 1,000,000.
  int64_t max_estimated_cost_usd = 1'000'000;
  // How far an event timestamp may be ahead of the receive time. Default 5 min.
  std::chrono::seconds max_future_skew{300};
  // How far an event timestamp may be behind the receive time. Default 7 days; must stay
  // inside the processor's dedup window so late retries are still recognized.
  std::chrono::seconds max_past_skew{7 * 86400};

  Status Validate() const;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_INGEST_LIMITS_H_
