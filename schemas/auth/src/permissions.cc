#include "tokenmeter/auth/permissions.h"

#include <array>

#include "tokenmeter/base/enum_names.h"

namespace tokenmeter {
namespace {

constexpr EnumNames<Action, 15> kActions({"ingest", "clean_mine", "clean_workspace", "read", "replay_alert",
                                          "list_keys", "manage_keys", "manage_owner_keys", "read_audit",
                                          "manage_projects", "manage_budgets", "export_config",
                                          "create_workspace", "manage_alerting", "manage_pricing"});

struct Row {
  std::array<bool, 4> allowed;  // owner, admin, member, ingest
  std::string_view doing;       // "a <role> key cannot <doing>"
  std::string_view needs;       // "; <needs>"
};
// Indexed by Action.
constexpr std::array<Row, 15> kTable = {{
    {{false, false, false, true}, "ingest", "use an ingest key"},
    {{true, true, true, true}, "remove its owner's rows", ""},
    {{true, true, false, false}, "remove the workspace's rows",
     "use scope=mine (scope=workspace needs an owner or admin key)"},
    {{true, true, true, false}, "read", "use an owner, admin or member key"},
    {{true, true, false, false}, "replay an alert", "replaying an alert needs an owner or admin key"},
    {{true, true, true, false}, "list keys", "use an owner, admin or member key"},
    {{true, true, false, false}, "manage keys", "managing keys needs an owner or admin key"},
    {{true, false, false, false}, "manage owner keys", "only an owner key creates, rotates or revokes owner keys"},
    {{true, true, false, false}, "read the audit trail", "the audit trail needs an owner or admin key"},
    {{true, true, false, false}, "manage projects", "managing projects needs an owner or admin key"},
    {{true, true, false, false}, "manage budgets", "managing budgets needs an owner or admin key"},
    {{true, false, false, false}, "export the settings", "the export holds key hashes: it needs an owner key"},
    {{true, false, false, false}, "create workspaces", "use an owner key from the config file"},
    {{true, true, false, false}, "manage the plan limit or alert routes", "that needs an owner or admin key"},
    {{true, true, false, false}, "manage prices or model aliases", "that needs an owner or admin key"},
}};

}  // namespace

std::string_view ActionName(Action a) { return kActions.Name(a); }

bool Allowed(Role role, Action action) {
  return kTable[static_cast<size_t>(action)].allowed[static_cast<size_t>(role)];
}

std::string ForbiddenMessage(Role role, Action action) {
  const Row& row = kTable[static_cast<size_t>(action)];
  const std::string_view name = RoleName(role);
  std::string m = (name == "member" ? "a " : "an ") + std::string(name) + " key cannot " + std::string(row.doing);
  if (!row.needs.empty()) m += "; " + std::string(row.needs);
  return m;
}

}  // namespace tokenmeter
