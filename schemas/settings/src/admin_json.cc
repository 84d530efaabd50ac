#include "admin_json.h"

#include <charconv>

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {

std::string TimeJson(int64_t ms) {
  return ms > 0 ? "\"" + FormatRfc3339(TimePoint(std::chrono::milliseconds(ms))) + "\"" : "null";
}

namespace {

void AppendNumber(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace

void AppendKey(std::string& out, const KeyRecord& k, int64_t last_used_ms) {
  out += "{\"id\":";
  AppendJsonString(out, k.id);
  out += ",\"prefix\":";
  AppendJsonString(out, k.env.empty() ? "" : "tm_" + k.env + "_" + k.id);
  out += ",\"name\":";
  AppendJsonString(out, k.name);
  out += ",\"role\":\"" + std::string(RoleName(k.role)) + "\",\"project\":";
  AppendJsonString(out, k.project);
  out += ",\"environment\":";
  AppendJsonString(out, k.environment);
  out += ",\"owner\":";
  AppendJsonString(out, k.owner.empty() ? k.id : k.owner);
  out += ",\"source\":\"";
  out += k.from_config ? "config" : "api";
  out += "\",\"createdAt\":" + TimeJson(k.created_ms) + ",\"revoked\":";
  out += k.revoked ? "true" : "false";
  out += ",\"previousSecretValidUntil\":" + TimeJson(k.previous_sha256.empty() ? 0 : k.previous_until_ms);
  out += ",\"lastUsedAt\":" + TimeJson(last_used_ms) + ",\"eventsPerSecond\":";
  AppendNumber(out, k.events_per_second);
  out += ",\"burstEvents\":";
  AppendNumber(out, k.burst_events);
  out += "}";
}

void AppendProject(std::string& out, const ProjectRecord& p) {
  out += "{\"slug\":";
  AppendJsonString(out, p.slug);
  out += ",\"name\":";
  AppendJsonString(out, p.name);
  out += ",\"environments\":[";
  for (size_t i = 0; i < p.environments.size(); ++i) {
    if (i) out += ",";
    AppendJsonString(out, p.environments[i]);
  }
  out += "],\"source\":\"";
  out += p.from_config ? "config" : "api";
  out += "\",\"createdAt\":" + TimeJson(p.created_ms) + "}";
}

void AppendTexts(std::string& out, const std::vector<std::string>& values) {
  out += "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    AppendJsonString(out, values[i]);
  }
  out += "]";
}

void AppendBudget(std::string& out, const BudgetRecord& b) {
  out += "{\"id\":";
  AppendJsonString(out, b.id);
  out += ",\"amountUsd\":";
  AppendJsonString(out, b.amount_usd);
  out += ",\"period\":";
  AppendJsonString(out, b.period);
  out += ",\"thresholds\":";
  AppendTexts(out, b.thresholds);
  for (auto [name, value] : {std::pair<const char*, const std::string*>{"project", &b.project},
                             {"environment", &b.environment}, {"endpointTag", &b.endpoint_tag}, {"tenant", &b.tenant}}) {
    out += ",\"";
    out += name;
    out += "\":";
    AppendJsonString(out, *value);
  }
  out += ",\"dataModes\":";
  AppendTexts(out, b.data_modes);
  out += ",\"source\":\"api\",\"updatedAt\":" + TimeJson(b.updated_ms) + "}";
}

void AppendRoute(std::string& out, const RouteRecord& r) {
  out += "{\"sink\":";
  AppendJsonString(out, r.sink);
  out += ",\"types\":";
  AppendTexts(out, r.types);
  out += "}";
}

std::string AuditJson(const std::vector<AuditEntry>& entries) {
  std::string out = "{\"ok\":true,\"items\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    const AuditEntry& e = entries[i];
    if (i) out += ",";
    out += "{\"changeId\":";
    AppendJsonString(out, e.change_id);
    out += ",\"at\":" + TimeJson(e.at_ms) + ",\"by\":";
    AppendJsonString(out, e.actor);
    out += ",\"action\":\"" + std::string(SettingsActionName(e.action)) + "\",\"target\":";
    AppendJsonString(out, e.target);
    out += ",\"applied\":";
    out += e.refused.empty() ? "true" : "false";
    if (!e.refused.empty()) {
      out += ",\"refused\":";
      AppendJsonString(out, e.refused);
    }
    out += "}";
  }
  out += "]}";
  return out;
}


namespace {

// A YAML scalar: JSON's quoted string is a YAML double-quoted scalar.
std::string Quoted(const std::string& s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string QuotedList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + Quoted(values[i]);
  return out + "]";
}

void Line(std::string& out, const char* indent, const char* name, const std::string& value) {
  if (value.empty()) return;
  out += indent;
  out += name;
  out += ": " + Quoted(value) + "\n";
}

}  // namespace

std::string ExportYaml(const LiveSettings& settings, const std::string& workspace, int64_t now_ms) {
  std::string out = "# tokenmeter config export: the live settings of workspace " + Quoted(workspace) + " at " +
                    FormatRfc3339(TimePoint(std::chrono::milliseconds(now_ms))) +
                    ",\n# the config file's and the admin API's, as config-file entries (keys by their SHA-256).\n";
  out += "workspaces:\n  - id: " + Quoted(workspace) + "\n";
  std::vector<std::string> slugs;
  for (const ProjectRecord& p : settings.Projects(workspace)) slugs.push_back(p.slug);
  if (!slugs.empty()) out += "    projects: " + QuotedList(slugs) + "\n";
  std::vector<std::string> declared = settings.ConfigBudgetIds(workspace);
  if (!declared.empty()) out += "    # budgets of the config file (not repeated here): " + QuotedList(declared) + "\n";
  std::vector<BudgetRecord> budgets = settings.Budgets(workspace);
  if (!budgets.empty()) out += "    budgets:\n";
  for (const BudgetRecord& b : budgets) {
    out += "      - id: " + Quoted(b.id) + "\n";
    Line(out, "        ", "amount_usd", b.amount_usd);
    Line(out, "        ", "period", b.period);
    if (!b.thresholds.empty()) out += "        thresholds: " + QuotedList(b.thresholds) + "\n";
    Line(out, "        ", "project", b.project);
    Line(out, "        ", "environment", b.environment);
    Line(out, "        ", "endpoint_tag", b.endpoint_tag);
    Line(out, "        ", "tenant", b.tenant);
    if (!b.data_modes.empty()) out += "        data_modes: " + QuotedList(b.data_modes) + "\n";
  }
  if (auto plan = settings.AllPlans(); plan.contains(workspace)) {
    out += "    plan:\n      requests_per_month: " + std::to_string(plan.at(workspace)) + "\n";
  }
  if (auto routes = settings.AllRoutes(); routes.contains(workspace) && !routes.at(workspace).empty()) {
    out += "    alert_routes:\n";
    for (const RouteRecord& r : routes.at(workspace)) {
      out += "      - sink: " + Quoted(r.sink) + "\n";
      if (!r.types.empty()) out += "        types: " + QuotedList(r.types) + "\n";
    }
  }
  // The config file's pricing, then the API's: both as the file writes them.
  LiveSettings::Pricing pricing = settings.ConfigPricing(workspace);
  if (auto api = settings.AllPricing(); api.contains(workspace)) {
    const LiveSettings::Pricing& more = api.at(workspace);
    pricing.overrides.insert(pricing.overrides.end(), more.overrides.begin(), more.overrides.end());
    pricing.aliases.insert(pricing.aliases.end(), more.aliases.begin(), more.aliases.end());
  }
  if (!pricing.overrides.empty()) out += "    price_overrides:\n";
  for (const PriceOverrideRecord& o : pricing.overrides) {
    out += "      - provider: " + Quoted(o.provider) + "\n";
    Line(out, "        ", "model", o.model);
    Line(out, "        ", "effective_from", o.effective_from);
    Line(out, "        ", "input_usd_per_mtok", o.input);
    Line(out, "        ", "output_usd_per_mtok", o.output);
    Line(out, "        ", "cache_read_usd_per_mtok", o.cache_read);
    Line(out, "        ", "cache_write_usd_per_mtok", o.cache_write);
    Line(out, "        ", "cache_write_1h_usd_per_mtok", o.cache_write_1h);
    Line(out, "        ", "reasoning_usd_per_mtok", o.reasoning);
  }
  if (!pricing.aliases.empty()) out += "    model_aliases:\n";
  for (const ModelAliasRecord& a : pricing.aliases) {
    out += "      - provider: " + Quoted(a.provider) + "\n";
    Line(out, "        ", "name", a.name);
    Line(out, "        ", "model", a.model);
  }
  std::vector<KeyRecord> keys = settings.Keys(workspace);
  if (!keys.empty()) out += "keys:\n";
  for (const KeyRecord& k : keys) {
    out += "  - id: " + Quoted(k.id) + "\n";
    if (!k.env.empty()) out += "    prefix: " + Quoted("tm_" + k.env + "_" + k.id) + "\n";
    Line(out, "    ", "sha256", k.sha256);
    Line(out, "    ", "workspace", k.workspace);
    Line(out, "    ", "role", std::string(RoleName(k.role)));
    Line(out, "    ", "project", k.project);
    Line(out, "    ", "environment", k.environment);
    Line(out, "    ", "owner", k.owner);
    if (k.revoked) out += "    revoked: true\n";
    if (k.events_per_second > 0) {
      out += "    events_per_second: ";
      AppendNumber(out, k.events_per_second);
      out += "\n";
    }
    if (k.burst_events > 0) {
      out += "    burst_events: ";
      AppendNumber(out, k.burst_events);
      out += "\n";
    }
  }
  return out;
}

}  // namespace tokenmeter
