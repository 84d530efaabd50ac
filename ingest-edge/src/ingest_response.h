// The edge's answers, rendered exactly as README "Ingest responses" documents them.
// Pure functions; any thread.
#ifndef TOKENMETER_EDGE_INGEST_RESPONSE_H_
#define TOKENMETER_EDGE_INGEST_RESPONSE_H_

#include <string_view>
#include <vector>

#include "tokenmeter/model/workspace_status.h"

#include "tokenmeter/http/http_server.h"
#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {

// 202 when at least one event was accepted; 400 "invalid_events" when none was.
HttpResponse IngestResult(size_t accepted, const std::vector<FieldError>& errors,
                          const WorkspaceStatus& status);
// 402 while the workspace's plan limit pauses telemetry (DESIGN.md "Ingest contract").
HttpResponse PlanLimitReached(int retry_after_s);
// {"ok":false,"reason":...,"message":...} with the given status.
HttpResponse Refusal(int status, std::string_view reason, std::string_view message);
// A refusal that carries Retry-After (429, 503).
HttpResponse RetryLater(int status, std::string_view reason, std::string_view message,
                        int retry_after_s);

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_INGEST_RESPONSE_H_
