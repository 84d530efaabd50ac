#include "tokenmeter/model/ingest_limits.h"

#include <string>

namespace tokenmeter {

Status IngestLimits::Validate() const {
  if (max_body_bytes < 1024 || max_body_bytes > (64u << 20)) {
    return InvalidArgument("ingest.max_body_bytes must be in [1024, 67108864]");
  }
  if (max_events_per_request < 1 || max_events_per_request > 100000) {
    return InvalidArgument("ingest.max_events_per_request must be in [1, 100000]");
  }
  if (max_json_depth < 3 || max_json_depth > 64) {
    return InvalidArgument("ingest.max_json_depth must be in [3, 64] (a batch needs 3)");
  }
  if (max_fields_per_event < 8 || max_fields_per_event > 1024) {
    return InvalidArgument("ingest.max_fields_per_event must be in [8, 1024]");
  }
  if (max_string_bytes < 16 || max_string_bytes > 4096) {
    return InvalidArgument("ingest.max_string_bytes must be in [16, 4096]");
  }
  if (max_request_id_bytes < 1 || max_request_id_bytes > 1024) {
    return InvalidArgument("ingest.max_request_id_bytes must be in [1, 1024]");
  }
  if (max_tokens < 1 || max_tokens > 1'000'000'000'000ull) {
    return InvalidArgument("ingest.max_tokens must be in [1, 10^12]");
  }
  if (max_estimated_cost_usd < 1 || max_estimated_cost_usd > 1'000'000'000) {
    return InvalidArgument("ingest.max_estimated_cost_usd must be in [1, 10^9]");
  }
  if (max_future_skew.count() < 0 || max_past_skew.count() < 0) {
    return InvalidArgument("ingest skew bounds must not be negative");
  }
  return Status::Ok();
}

}  // namespace tokenmeter
