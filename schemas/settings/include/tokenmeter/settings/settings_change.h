// A settings change: one record on the settings log (serve: data_dir/log/settings.*.log;
// distributed: bus.kafka.settings_topic), keyed by workspace, so a workspace's changes are
// in one order everywhere. One record is one whole change, so a reader applies all of it
// or none of it. It carries the object's whole new state (for a key: its record, the
// SHA-256 of its secret only), who asked and when: the log is the audit trail.
//
// Layout: one JSON object, {"format":1,"id","workspace","actor","atMs","action", and
// "key":{…}, "project":{…}, "budget":{…}, "plan":{"requestsPerMonth"}, "routes":[…] or
// "pricing":{"overrides":[…],"aliases":[…]} for a key.*, project.*, budget.*, plan.*,
// routes.* or pricing.* action}. Another format is
// refused. Pure value code; any thread.
#ifndef TOKENMETER_SETTINGS_SETTINGS_CHANGE_H_
#define TOKENMETER_SETTINGS_SETTINGS_CHANGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/fwd.h>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/status.h"

namespace tokenmeter {

enum class SettingsAction : uint8_t {
  kKeyCreate, kKeyRotate, kKeyRevoke, kProjectCreate, kProjectUpdate, kBudgetPut, kBudgetDelete,
  kPlanPut, kPlanDelete, kRoutesPut, kPricingPut
};
std::string_view SettingsActionName(SettingsAction a);  // "key.create", ...
inline bool IsProjectAction(SettingsAction a) {
  return a == SettingsAction::kProjectCreate || a == SettingsAction::kProjectUpdate;
}

inline bool IsBudgetAction(SettingsAction a) {
  return a == SettingsAction::kBudgetPut || a == SettingsAction::kBudgetDelete;
}

inline bool IsAlertingAction(SettingsAction a) {
  return IsBudgetAction(a) || a == SettingsAction::kPlanPut || a == SettingsAction::kPlanDelete ||
         a == SettingsAction::kRoutesPut;
}

// Where a workspace's alerts go: a sink of the config file's `sinks:` (its secrets stay
// there) and the alert types (empty: all).
struct RouteRecord {
  std::string sink;
  std::vector<std::string> types;
};

// A budget as the config file writes it under workspaces[].budgets (texts, checked by the
// processor's rules: README "Configuration"); empty lists mean the defaults.
struct BudgetRecord {
  std::string id;
  std::string amount_usd;  // decimal text, e.g. "500"
  std::string period;      // "month" or "day"
  std::vector<std::string> thresholds;  // fractions, e.g. "0.8"; empty: [0.8]
  std::string project, environment, endpoint_tag, tenant;
  std::vector<std::string> data_modes;  // empty: [real]
  int64_t updated_ms = 0;
  bool from_config = false;  // declared in the config file (read-only here)
};

// A negotiated price as the config file writes it under workspaces[].price_overrides (texts,
// checked by the processor's rules): USD per million tokens as exact decimals, "" where the
// catalog's price stays; `effective_from` RFC 3339, "" for always.
struct PriceOverrideRecord {
  std::string provider, model, effective_from;
  std::string input, output, cache_read, cache_write, cache_write_1h, reasoning;
  friend bool operator==(const PriceOverrideRecord&, const PriceOverrideRecord&) = default;
};

// A name a workspace's clients send for a model, priced as the catalog's `model`
// (workspaces[].model_aliases).
struct ModelAliasRecord {
  std::string provider, name, model;
  friend bool operator==(const ModelAliasRecord&, const ModelAliasRecord&) = default;
};

// A project: its slug is set at creation and never changes (events name it); its display
// name and environments may change.
struct ProjectRecord {
  std::string slug;
  std::string name;
  std::vector<std::string> environments;  // the environments it reports under (informational)
  int64_t created_ms = 0;
  bool from_config = false;  // declared under workspaces[].projects (read-only here)
};

struct SettingsChange {
  std::string id;         // "chg_" + 16 hex digits
  std::string workspace;  // the record key
  std::string actor;      // the id of the key that asked
  int64_t at_ms = 0;
  SettingsAction action = SettingsAction::kKeyCreate;
  KeyRecord key;          // key.*: the key's whole record after the change
  ProjectRecord project;  // project.*: the project's whole record after the change
  BudgetRecord budget;    // budget.*: the budget's whole record (budget.delete: its id)
  int64_t plan_requests_per_month = 0;  // plan.put: the new limit
  std::vector<RouteRecord> routes;      // routes.put: every route the API gives the workspace
  // pricing.put: every price override and model alias the API gives the workspace.
  std::vector<PriceOverrideRecord> price_overrides;
  std::vector<ModelAliasRecord> model_aliases;
};

std::string EncodeSettingsChange(const SettingsChange& c);
// The members "overrides":[…],"aliases":[…] of a pricing object (the change's, the admin
// API's answers), and back from such an object (unknown members refused; absent texts "").
void AppendPricing(std::string& out, const std::vector<PriceOverrideRecord>& overrides,
                   const std::vector<ModelAliasRecord>& aliases);
Status ReadPricing(const rapidjson::Value& o, std::vector<PriceOverrideRecord>& overrides,
                   std::vector<ModelAliasRecord>& aliases);
// Fails with a message naming what is wrong (not JSON, another format, a missing field).
Result<SettingsChange> DecodeSettingsChange(std::string_view value);

// A new change id from the system's random source.
std::string NewChangeId();

}  // namespace tokenmeter

#endif  // TOKENMETER_SETTINGS_SETTINGS_CHANGE_H_
