#include "ingest_response.h"

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

size_t RejectedEvents(const std::vector<FieldError>& errors) {
  size_t n = 0;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i == 0 || errors[i].index != errors[i - 1].index) ++n;
  }
  return n;
}

}  // namespace

HttpResponse IngestResult(size_t accepted, const std::vector<FieldError>& errors,
                          const WorkspaceStatus& status) {
  HttpResponse r;
  size_t rejected = RejectedEvents(errors);
  if (accepted == 0) {
    r.status = 400;
    r.body = "{\"ok\":false,\"reason\":\"invalid_events\",\"accepted\":0,\"rejected\":" +
             std::to_string(rejected) + ",";
  } else {
    r.status = 202;
    r.body = "{\"ok\":true,\"accepted\":" + std::to_string(accepted) +
             ",\"rejected\":" + std::to_string(rejected) + ",";
  }
  AppendErrors(r.body, errors);
  if (accepted > 0) {
    r.body += std::string(",\"telemetryPaused\":false,\"budgetWarning\":") +
              (status.budget_warning ? "true" : "false") + ",\"budgetExceeded\":" +
              (status.budget_exceeded ? "true" : "false");
  }
  r.body.push_back('}');
  return r;
}

HttpResponse PlanLimitReached(int retry_after_s) {
  HttpResponse r;
  r.status = 402;
  r.body =
      R"({"ok":false,"reason":"plan_limit_reached","telemetryPaused":true,"providerCallsContinue":true,"isPlanLimitReached":true})";
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

HttpResponse Refusal(int status, std::string_view reason, std::string_view message) {
  return JsonError(status, reason, message);
}

HttpResponse RetryLater(int status, std::string_view reason, std::string_view message,
                        int retry_after_s) {
  HttpResponse r = Refusal(status, reason, message);
  r.body.pop_back();
  r.body += ",\"retryAfterSeconds\":" + std::to_string(retry_after_s) + "}";
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

}  // namespace tokenmeter
