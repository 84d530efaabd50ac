// AlertsApi: budgets, workspace status and alerts for read keys (DESIGN.md "Query API").
//
//   GET  /v1/budgets                       each budget's limit, spend, utilization, state
//                                          and forecast in the period holding now
//   GET  /v1/diagnostics/workspace-status  the same plus the plan limit and the flags the
//                                          edges see (telemetryPaused, budgetWarning/Exceeded)
//   GET  /v1/alerts?range=|from=&to=&limit=  alerts, newest first, with delivery state
//   POST /v1/alerts/{id}/replay            queue a dead or delivered alert again (owner/admin)
//
// Thread-safe; called on HTTP I/O threads.
#ifndef TOKENMETER_PROCESSOR_QUERY_ALERTS_API_H_
#define TOKENMETER_PROCESSOR_QUERY_ALERTS_API_H_

#include <array>
#include <string_view>

#include "emit/alert_store.h"
#include "evaluate/alert_rules.h"
#include "state/state_store.h"
#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

class AlertsApi {
 public:
  AlertsApi(const StateStore& store, AlertStore& alerts, const LiveRules& rules, const KeyRing& keys,
            const Clock& clock)
      : store_(store), alerts_(alerts), rules_(rules), keys_(keys), clock_(clock) {}

  // The paths it serves begin with one of these (mounted as they are on a shared port).
  static constexpr std::array<std::string_view, 3> kRoutePrefixes = {"/v1/budgets", "/v1/diagnostics/",
                                                                     "/v1/alerts"};
  static bool Serves(std::string_view path);
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  HttpResponse StatusView(const KeyRecord& key, bool full) const;
  HttpResponse List(const KeyRecord& key, const HttpRequest& request) const;

  const StateStore& store_;
  AlertStore& alerts_;
  const LiveRules& rules_;
  const KeyRing& keys_;
  const Clock& clock_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_QUERY_ALERTS_API_H_
