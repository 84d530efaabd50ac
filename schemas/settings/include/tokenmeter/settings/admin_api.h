// AdminApi: settings through HTTP (README "Admin API"): the workspace's API keys,
// projects and budgets.
//   GET    /v1/admin/keys               every key, never its secret or hash
//   POST   /v1/admin/keys               a new key; its secret is in this answer only
//   POST   /v1/admin/keys/{id}/rotate   a new secret; the old one works `overlapSeconds` more
//   DELETE /v1/admin/keys/{id}          revoke
//   GET    /v1/admin/projects           every project (slug, name, environments)
//   POST   /v1/admin/projects           a new project (its slug never changes)
//   PATCH  /v1/admin/projects/{slug}    a new display name or environments list
//   GET    /v1/admin/budgets            the budgets made here (the config file's: /v1/budgets)
//   PUT    /v1/admin/budgets/{id}       make or change a budget
//   DELETE /v1/admin/budgets/{id}       delete one
//   GET|PUT|DELETE /v1/admin/plan       the plan limit (requests per month)
//   GET|PUT /v1/admin/alert-routes      where the workspace's alerts go (sinks of the config)
//   GET|PUT /v1/admin/pricing           the workspace's price overrides and model aliases
//   GET    /v1/admin/audit              the workspace's changes, newest first
//   GET    /v1/admin/config             the settings as config-file YAML (owner keys only)
//   POST   /v1/admin/workspaces         a new workspace and its first owner key (the config
//                                       file's owner keys only)
// A change is checked against the live settings, written to the settings log (answered 503
// when it cannot be made durable), then answered once this process has applied it (201 or
// 200), or 202 "applied": false when that takes longer than 2 s. The permission table
// (auth/permissions.h) decides who may do what. Served on serve's port, every edge's and
// every processor's (each routes /v1/admin/ here).
//
// Threads: Handle() on HTTP I/O threads; answers to changes come from the settings
// follower's thread. What it is given must outlive it.
#ifndef TOKENMETER_SETTINGS_ADMIN_API_H_
#define TOKENMETER_SETTINGS_ADMIN_API_H_

#include <functional>
#include <string_view>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/bus/publisher.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/settings/live_settings.h"

namespace tokenmeter {

class AdminApi final : public HttpHandler {
 public:
  // The path prefix it serves.
  static constexpr const char* kPrefix = "/v1/admin/";
  // `keys`: the ring LiveSettings keeps (callers are verified with it); `log`: where
  // changes are written (the settings log).
  AdminApi(LiveSettings& settings, const KeyRing& keys, Publisher& log, const Clock& clock)
      : settings_(settings), keys_(keys), log_(log), clock_(clock) {}
  void Handle(HttpRequest request, Respond respond) override;

 private:
  void HandleAs(const HttpRequest& request, const KeyRecord& key, Respond respond);
  void CreateWorkspace(const HttpRequest& request, const KeyRecord& key, int64_t now_ms, Respond respond);
  void HandleAlerting(const HttpRequest& request, std::string_view path, const KeyRecord& key, int64_t now_ms,
                      Respond respond);
  void HandleBudgets(const HttpRequest& request, std::string_view path, const KeyRecord& key, int64_t now_ms,
                     Respond respond);
  void HandlePricing(const HttpRequest& request, const KeyRecord& key, int64_t now_ms, Respond respond);
  void HandleProjects(const HttpRequest& request, std::string_view path, const KeyRecord& key, int64_t now_ms,
                      Respond respond);
  void Write(SettingsChange change, int success_status, std::string secret, Respond respond);

  LiveSettings& settings_;
  const KeyRing& keys_;
  Publisher& log_;
  const Clock& clock_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SETTINGS_ADMIN_API_H_
