// The permission table: what each role may do. Every endpoint asks here, so the table in
// README "Permissions" is this one.
//
//   action            owner admin member ingest
//   ingest              -     -     -      x     POST /v1/ingest (and its aliases, demo)
//   clean_mine          x     x     x      x     DELETE /v1/ingest/{demo,test}-data?scope=mine
//   clean_workspace     x     x     -      -     ... ?scope=workspace
//   read                x     x     x      -     dashboards, exports, budgets, alerts, cleanups
//   replay_alert        x     x     -      -     POST /v1/alerts/{id}/replay
//   list_keys           x     x     x      -     GET /v1/admin/keys (no secret, no hash)
//   manage_keys         x     x     -      -     create, rotate, revoke keys (not owner keys)
//   manage_owner_keys   x     -     -      -     create, rotate, revoke owner keys
//   read_audit          x     x     -      -     GET /v1/admin/audit
//   manage_projects     x     x     -      -     create projects, change their names and environments
//   manage_budgets      x     x     -      -     create, change and delete budgets
//   manage_alerting     x     x     -      -     set the plan limit and the alert routes
//   export_config       x     -     -      -     GET /v1/admin/config (the settings as YAML, key hashes too)
//   create_workspace    x     -     -      -     POST /v1/admin/workspaces (owner keys of the config file only)
// (listing projects, budgets, the plan and routes, GET /v1/admin/…, is `read`.)
#ifndef TOKENMETER_AUTH_PERMISSIONS_H_
#define TOKENMETER_AUTH_PERMISSIONS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tokenmeter/auth/api_key.h"

namespace tokenmeter {

enum class Action : uint8_t {
  kIngest,
  kCleanMine,
  kCleanWorkspace,
  kRead,
  kReplayAlert,
  kListKeys,
  kManageKeys,
  kManageOwnerKeys,
  kReadAudit,
  kManageProjects,
  kManageBudgets,
  kExportConfig,
  kCreateWorkspace,
  kManageAlerting,
  kManagePricing,
};
std::string_view ActionName(Action a);

bool Allowed(Role role, Action action);
// The 403 message for a role refused an action: what it cannot do and which role can.
std::string ForbiddenMessage(Role role, Action action);

}  // namespace tokenmeter

#endif  // TOKENMETER_AUTH_PERMISSIONS_H_
