#include "ingest_response.h"

#include <algorithm>
#include <string>

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

void AppendErrors(std::string& out, const std::vector<FieldError>& errors) {
  out += "\"errors\":[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"index\":" + std::to_string(errors[i].index) + ",\"field\":";
    AppendJsonString(out, errors[i].field);
    out += ",\"message\":";
    AppendJsonString(out, errors[i].message);
    out.push_back('}');
  }
  out.push_back(']');
}

// The Opsmeter status fields, every answer's last members.
void AppendStatusFields(std::string& out, const AnswerStatus& status) {
  auto flag = [&out](const char* name, bool v) {
    out += std::string(",\"") + name + "\":" + (v ? "true" : "false");
  };
  flag("telemetryPaused", status.telemetry_paused);
  flag("providerCallsContinue", true);
  flag("isPlanLimitReached", status.plan_limit_reached);
  flag("budgetWarning", status.budget_warning);
  flag("budgetExceeded", status.budget_exceeded);
}

size_t RejectedEvents(const std::vector<FieldError>& errors) {
  size_t n = 0;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i == 0 || errors[i].index != errors[i - 1].index) ++n;
  }
  return n;
}

}  // namespace

HttpResponse IngestResult(const std::vector<AnsweredEvent>& events, const std::vector<RecordOutcome>& outcomes,
                          const std::vector<FieldError>& errors, const AnswerStatus& status) {
  // The processor's verdicts; a record it dead-lettered is an error of its event.
  size_t inserted = 0, skipped = 0, pending = 0;
  std::string conflicts, warnings;
  std::vector<FieldError> all = errors;
  auto item = [](std::string& out, uint32_t index) {
    if (!out.empty()) out.push_back(',');
    out += "{\"index\":" + std::to_string(index) + ",";
  };
  for (size_t i = 0; i < events.size(); ++i) {
    const AnsweredEvent& e = events[i];
    const RecordOutcome o = i < outcomes.size() ? outcomes[i] : RecordOutcome{};
    switch (o.verdict) {
      case RecordVerdict::kInserted: ++inserted; break;
      case RecordVerdict::kSkipped: ++skipped; break;
      case RecordVerdict::kPending: ++pending; break;
      case RecordVerdict::kConflict:
        item(conflicts, e.index);
        conflicts += "\"message\":\"this requestId was first recorded with other content; this event is not counted\"}";
        break;
      case RecordVerdict::kRejected:
        all.push_back({e.index, "", "refused by the processor on re-validation (see the dead-letter log)"});
        break;
    }
    if (o.unpriced) {
      item(warnings, e.index);
      warnings += "\"code\":\"unpriced_model\",\"message\":";
      AppendJsonString(warnings, "model \"" + e.model +
                                     "\" has no price in the catalog; counted without a cost (send estimatedCostUsd, "
                                     "or add a price or alias)");
      warnings.push_back('}');
    }
    if (e.warnings & kWarnUnknownProject) {
      item(warnings, e.index);
      warnings += "\"code\":\"unknown_project\",\"message\":";
      AppendJsonString(warnings, "project \"" + e.project + "\" is not configured; counted without a project");
      warnings.push_back('}');
    }
    if (e.warnings & kWarnTotalTokensMismatch) {
      item(warnings, e.index);
      warnings += "\"code\":\"total_tokens_mismatch\",\"message\":";
      AppendJsonString(warnings, "totalTokens " + std::to_string(e.total_tokens) + " is not inputTokens + outputTokens (" +
                                     std::to_string(e.token_sum) + "); the token counts are kept as given");
      warnings.push_back('}');
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const FieldError& a, const FieldError& b) { return a.index < b.index; });
  const size_t rejected = RejectedEvents(all);
  const size_t accepted = events.size();
  HttpResponse r;
  if (accepted == 0) {
    r.status = 400;
    r.body = "{\"ok\":false,\"reason\":\"invalid_events\",\"accepted\":0,\"rejected\":" +
             std::to_string(rejected) + ",";
    AppendErrors(r.body, all);
  } else {
    r.status = 202;
    r.body = "{\"ok\":true,\"inserted\":" + std::to_string(inserted) + ",\"skipped\":" + std::to_string(skipped) +
             ",\"conflicts\":[" + conflicts + "],\"pending\":" + std::to_string(pending) +
             ",\"accepted\":" + std::to_string(accepted) + ",\"rejected\":" + std::to_string(rejected) + ",";
    AppendErrors(r.body, all);
    r.body += ",\"warnings\":[" + warnings + "],\"reason\":\"ok\"";
  }
  AppendStatusFields(r.body, status);
  r.body.push_back('}');
  return r;
}

HttpResponse PlanLimitReached(int retry_after_s, const AnswerStatus& status) {
  AnswerStatus paused = status;
  paused.telemetry_paused = true;
  paused.plan_limit_reached = true;
  return RetryLater(402, "plan_limit_reached",
                    "the workspace's plan limit is reached: events are refused until the next UTC month "
                    "(your model calls are not affected)",
                    retry_after_s, paused);
}

HttpResponse Refusal(int status, std::string_view reason, std::string_view message, const AnswerStatus& workspace) {
  HttpResponse r = JsonError(status, reason, message);
  r.body.pop_back();
  AppendStatusFields(r.body, workspace);
  r.body.push_back('}');
  return r;
}

HttpResponse RetryLater(int status, std::string_view reason, std::string_view message, int retry_after_s,
                        const AnswerStatus& workspace) {
  HttpResponse r = JsonError(status, reason, message);
  r.body.pop_back();
  r.body += ",\"retryAfterSeconds\":" + std::to_string(retry_after_s);
  AppendStatusFields(r.body, workspace);
  r.body.push_back('}');
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

}  // namespace tokenmeter
