// The admin API's answers: JSON for keys, projects, budgets and the audit trail (never a
// key's secret or hash), and the owner's YAML export of a workspace's settings. Pure
// functions; any thread.
#ifndef TOKENMETER_SETTINGS_ADMIN_JSON_H_
#define TOKENMETER_SETTINGS_ADMIN_JSON_H_

#include <string>
#include <vector>

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/settings/live_settings.h"

namespace tokenmeter {

// "\"2026-12-07T13:40:00.000Z\"", or null for 0.
std::string TimeJson(int64_t ms);
void AppendTexts(std::string& out, const std::vector<std::string>& values);
// One key as every answer shows it: never the secret or its hash. `last_used_ms`: when
// this process last opened it (0: never, or not known here).
void AppendKey(std::string& out, const KeyRecord& k, int64_t last_used_ms = 0);
void AppendProject(std::string& out, const ProjectRecord& p);
void AppendBudget(std::string& out, const BudgetRecord& b);
void AppendRoute(std::string& out, const RouteRecord& r);
std::string AuditJson(const std::vector<AuditEntry>& entries);

// {"ok":true,"workspace":"<workspace>","<name>":[<append(out, item)>,…]}
template <typename T, typename Append>
std::string ListJson(const std::string& workspace, const char* name, const std::vector<T>& items, Append append) {
  std::string out = "{\"ok\":true,\"workspace\":";
  AppendJsonString(out, workspace);
  out += ",\"";
  out += name;
  out += "\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    append(out, items[i]);
  }
  return out + "]}";
}

// The workspace's settings as config-file entries (`workspaces:` with its projects and
// the API's budgets, `keys:` with every key's hash): what `tokenmeter config export`
// prints. The config file's budgets are named in a comment (their text stays there).
std::string ExportYaml(const LiveSettings& settings, const std::string& workspace, int64_t now_ms);

}  // namespace tokenmeter

#endif  // TOKENMETER_SETTINGS_ADMIN_JSON_H_
