// The edge's answers, rendered exactly as README "Ingest responses" documents them.
// Pure functions; any thread.
#ifndef TOKENMETER_EDGE_INGEST_RESPONSE_H_
#define TOKENMETER_EDGE_INGEST_RESPONSE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/bus/record_outcomes.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {

// One accepted event as its answer needs it, copied out of the parsed body before the
// bus answers.
struct AnsweredEvent {
  uint32_t index = 0;     // its position in the body
  uint32_t warnings = 0;  // EventWarning bits the edge set
  std::string model;      // normalized: an unpriced_model warning names it
  std::string project;    // the slug not configured (kWarnUnknownProject)
  uint64_t total_tokens = 0;  // as given, and input + output (kWarnTotalTokensMismatch)
  uint64_t token_sum = 0;
};
// What the answer says of the workspace: the Opsmeter status fields.
struct AnswerStatus {
  bool telemetry_paused = false;  // the plan limit pauses the next events
  bool plan_limit_reached = false;
  bool budget_warning = false;
  bool budget_exceeded = false;
};
// 202 when at least one event was accepted; 400 "invalid_events" when none was.
// `outcomes[i]` is what the processor did with events[i]: inserted, skipped (a retry),
// a conflict, rejected, or still pending (durable mode, or not applied in time).
HttpResponse IngestResult(const std::vector<AnsweredEvent>& events, const std::vector<RecordOutcome>& outcomes,
                          const std::vector<FieldError>& errors, const AnswerStatus& status);
// Every answer, refusals included, ends with the Opsmeter status fields of the key's
// workspace (`AnswerStatus{}` before a key is verified: nothing is known of a workspace).
// 402 while the workspace's plan limit pauses telemetry (DESIGN.md "Ingest contract"),
// with Retry-After.
HttpResponse PlanLimitReached(int retry_after_s, const AnswerStatus& status);
// {"ok":false,"reason":...,"message":..., status fields} with the given status.
HttpResponse Refusal(int status, std::string_view reason, std::string_view message, const AnswerStatus& workspace);
// A refusal that carries Retry-After and "retryAfterSeconds" (402, 429, 503).
HttpResponse RetryLater(int status, std::string_view reason, std::string_view message, int retry_after_s,
                        const AnswerStatus& workspace);

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_INGEST_RESPONSE_H_
