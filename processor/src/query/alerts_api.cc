#include "alerts_api.h"

#include <algorithm>
#include <map>

#include "evaluate/workspace_view.h"
#include "request_params.h"
#include "tokenmeter/auth/permissions.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

const char* Bool(bool b) { return b ? "true" : "false"; }

void AppendDelivery(std::string& out, const Delivery& d) {
  out += "{\"sink\":";
  AppendJsonString(out, d.sink);
  out += ",\"state\":\"" + std::string(DeliveryStateName(d.state)) + "\",\"attempts\":" +
         std::to_string(d.attempts);
  if (d.next_attempt_ms && d.state == DeliveryState::kPending) {
    out += ",\"nextAttemptAt\":\"" + FormatRfc3339(TimePoint(std::chrono::milliseconds(d.next_attempt_ms))) + "\"";
  }
  if (d.done_ms) {
    out += ",\"doneAt\":\"" + FormatRfc3339(TimePoint(std::chrono::milliseconds(d.done_ms))) + "\"";
  }
  if (!d.last_error.empty()) {
    out += ",\"lastError\":";
    AppendJsonString(out, d.last_error);
  }
  out += "}";
}

}  // namespace

bool AlertsApi::Serves(std::string_view path) {
  return std::any_of(kRoutePrefixes.begin(), kRoutePrefixes.end(),
                     [path](std::string_view p) { return path.starts_with(p); });
}

HttpResponse AlertsApi::Handle(const HttpRequest& request) const {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  const bool replay = path.starts_with("/v1/alerts/");
  if (!replay && path != "/v1/alerts" && path != "/v1/budgets" &&
      path != "/v1/diagnostics/workspace-status") {
    return JsonError(404, "not_found", "no such endpoint");
  }
  HttpResponse denied;
  KeyRef key = ReadKey(keys_, clock_, request, denied);
  if (key == nullptr) return denied;
  if (replay) {
    std::string_view rest = path.substr(11);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash) != "/replay") {
      return JsonError(404, "not_found", "no such endpoint; POST /v1/alerts/{id}/replay replays an alert");
    }
    if (request.method != "POST") return JsonError(405, "method_not_allowed", "replay is POST");
    if (!Allowed(key->role, Action::kReplayAlert)) {
      return JsonError(403, "forbidden", ForbiddenMessage(key->role, Action::kReplayAlert));
    }
    std::string id = PercentDecode(rest.substr(0, slash));
    Result<std::vector<std::string>> queued = alerts_.Replay(key->workspace, id, clock_.Now());
    if (!queued.ok()) {
      if (queued.status().code() == Code::kNotFound) return JsonError(404, "not_found", queued.status().message());
      return JsonError(503, "state_unavailable", queued.status().message());
    }
    HttpResponse r;
    r.status = 202;
    r.body = "{\"ok\":true,\"id\":";
    AppendJsonString(r.body, id);
    r.body += ",\"queued\":[";
    for (size_t i = 0; i < queued->size(); ++i) {
      if (i) r.body += ",";
      AppendJsonString(r.body, (*queued)[i]);
    }
    r.body += "]}";
    return r;
  }
  if (request.method != "GET") return JsonError(405, "method_not_allowed", "this endpoint is GET");
  if (path == "/v1/alerts") return List(*key, request);
  return StatusView(*key, path != "/v1/budgets");
}

HttpResponse AlertsApi::StatusView(const KeyRecord& key, bool full) const {
  TimePoint now = clock_.Now();
  Result<WorkspaceView> v = ReadWorkspaceView(store_, *rules_.Current(), key.workspace, now);
  if (!v.ok()) return JsonError(503, "state_unavailable", v.status().message());
  HttpResponse r;
  r.body = "{\"ok\":true,\"workspace\":";
  AppendJsonString(r.body, key.workspace);
  r.body += ",\"asOf\":\"" + FormatRfc3339(now) + "\"";
  if (full) {
    const WorkspaceStatus& s = v->status;
    r.body += std::string(",\"telemetryPaused\":") + Bool(s.plan_limit_reached) +
              ",\"isPlanLimitReached\":" + Bool(s.plan_limit_reached) + ",\"budgetWarning\":" +
              Bool(s.budget_warning) + ",\"budgetExceeded\":" + Bool(s.budget_exceeded) + ",\"plan\":";
    if (v->plan) {
      r.body += "{\"requestsPerMonth\":" + std::to_string(v->plan->requests_per_month) +
                ",\"requests\":" + std::to_string(v->plan_requests) + ",\"periodStart\":\"" +
                FormatRfc3339(v->month_start) + "\",\"periodEnd\":\"" +
                FormatRfc3339(PeriodEnd(v->month_start, BudgetPeriod::kMonth)) + "\"}";
    } else {
      r.body += "null";
    }
  }
  r.body += ",\"budgets\":[";
  for (size_t i = 0; i < v->budgets.size(); ++i) {
    if (i) r.body += ",";
    const BudgetView& b = v->budgets[i];
    r.body += BudgetStatusJson(*b.budget, b.state, b.period_start, now);
  }
  r.body += "]}";
  return r;
}

HttpResponse AlertsApi::List(const KeyRecord& key, const HttpRequest& request) const {
  Params p = ParseQuery(request.target);
  TimePoint now = clock_.Now();
  TimePoint from = now - std::chrono::hours(24 * 30), to = now + std::chrono::hours(24);
  if (p.contains("from")) {
    std::optional<TimePoint> f = ParseRfc3339(p["from"]);
    if (!f) return JsonError(400, "bad_query", "from must be an RFC 3339 timestamp");
    from = *f;
  }
  if (p.contains("to")) {
    std::optional<TimePoint> t = ParseRfc3339(p["to"]);
    if (!t) return JsonError(400, "bad_query", "to must be an RFC 3339 timestamp");
    to = *t;
  }
  if (from >= to) return JsonError(400, "bad_query", "from must be before to");
  size_t limit = 100;
  if (p.contains("limit")) {
    const std::string& l = p["limit"];
    if (l.empty() || l.size() > 4 || l.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(l) < 1 || std::stoul(l) > 1000) {
      return JsonError(400, "bad_query", "limit must be an integer in [1, 1000]");
    }
    limit = std::stoul(l);
  }
  Result<std::vector<AlertStore::Listed>> listed = alerts_.List(key.workspace, from, to, limit);
  if (!listed.ok()) return JsonError(503, "state_unavailable", listed.status().message());
  HttpResponse r;
  r.body = "{\"ok\":true,\"workspace\":";
  AppendJsonString(r.body, key.workspace);
  r.body += ",\"from\":\"" + FormatRfc3339(from) + "\",\"to\":\"" + FormatRfc3339(to) + "\",\"alerts\":[";
  for (size_t i = 0; i < listed->size(); ++i) {
    const AlertStore::Listed& l = (*listed)[i];
    if (i) r.body += ",";
    r.body += "{\"alert\":" + l.alert_json + ",\"deliveries\":[";
    for (size_t j = 0; j < l.deliveries.size(); ++j) {
      if (j) r.body += ",";
      AppendDelivery(r.body, l.deliveries[j]);
    }
    r.body += "]}";
  }
  r.body += "]}";
  return r;
}

}  // namespace tokenmeter
