#include "tokenmeter/settings/settings_change.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <random>
#include <utility>

#include "tokenmeter/base/enum_names.h"
#include "tokenmeter/base/json_text.h"

namespace tokenmeter {
namespace {

constexpr EnumNames<SettingsAction, 11> kActions({"key.create", "key.rotate", "key.revoke", "project.create",
                                                   "project.update", "budget.put", "budget.delete", "plan.put",
                                                   "plan.delete", "routes.put", "pricing.put"});
// A price override's components: JSON member, record field.
constexpr std::pair<const char*, std::string PriceOverrideRecord::*> kPriceTexts[] = {
    {"provider", &PriceOverrideRecord::provider},
    {"model", &PriceOverrideRecord::model},
    {"effectiveFrom", &PriceOverrideRecord::effective_from},
    {"inputUsdPerMtok", &PriceOverrideRecord::input},
    {"outputUsdPerMtok", &PriceOverrideRecord::output},
    {"cacheReadUsdPerMtok", &PriceOverrideRecord::cache_read},
    {"cacheWriteUsdPerMtok", &PriceOverrideRecord::cache_write},
    {"cacheWrite1hUsdPerMtok", &PriceOverrideRecord::cache_write_1h},
    {"reasoningUsdPerMtok", &PriceOverrideRecord::reasoning}};
constexpr std::pair<const char*, std::string ModelAliasRecord::*> kAliasTexts[] = {
    {"provider", &ModelAliasRecord::provider}, {"name", &ModelAliasRecord::name}, {"model", &ModelAliasRecord::model}};
constexpr int kFormat = 1;

void Member(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  AppendJsonString(out, value);
}
void Member(std::string& out, std::string_view name, int64_t value) {
  out += ",\"";
  out += name;
  out += "\":" + std::to_string(value);
}
void Member(std::string& out, std::string_view name, double value) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.17g", value);
  out += ",\"";
  out += name;
  out += "\":";
  out += buf;
}

void Texts(std::string& out, std::string_view name, const std::vector<std::string>& values) {
  out += ",\"";
  out += name;
  out += "\":[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    AppendJsonString(out, values[i]);
  }
  out += "]";
}

Status Text(const rapidjson::Value& o, const char* name, std::string& out) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsString()) return InvalidArgument(std::string(name) + " must be a string");
  out.assign(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}
Status Int(const rapidjson::Value& o, const char* name, int64_t& out) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsInt64()) return InvalidArgument(std::string(name) + " must be an integer");
  out = it->value.GetInt64();
  return Status::Ok();
}
// The double that survives its own encoding: RapidJSON's default number parser does not
// always round correctly, so the %.17g text of a value it read may read back as a
// neighbour (its correctly rounding mode crashes on some inputs: Tencent/rapidjson#1251).
// A value is moved to the neighbour that reads back as itself, so a record re-encoded
// (a config export, a copy) holds what the first reader held.
double StableDouble(double v) {
  for (int i = 0; i < 4; ++i) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.17g", v);
    rapidjson::Document d;
    d.Parse(text);
    if (d.HasParseError() || !d.IsNumber() || d.GetDouble() == v) return v;
    v = d.GetDouble();
  }
  return v;
}

Status Number(const rapidjson::Value& o, const char* name, double& out) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsNumber()) return InvalidArgument(std::string(name) + " must be a number");
  out = StableDouble(it->value.GetDouble());
  return Status::Ok();
}

Status TextList(const rapidjson::Value& o, const char* name, std::vector<std::string>& out) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsArray()) return InvalidArgument(std::string(name) + " must be a list");
  for (const auto& e : it->value.GetArray()) {
    if (!e.IsString()) return InvalidArgument(std::string(name) + " must be texts");
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return Status::Ok();
}

}  // namespace

void AppendPricing(std::string& out, const std::vector<PriceOverrideRecord>& overrides,
                   const std::vector<ModelAliasRecord>& aliases) {
  // `records` as a list of objects of their text `fields`.
  auto list = [&out](const char* name, const auto& records, const auto& fields) {
    out += "\"";
    out += name;
    out += "\":[";
    for (size_t i = 0; i < records.size(); ++i) {
      out += i ? ",{" : "{";
      for (size_t f = 0; f < std::size(fields); ++f) {
        out += f ? ",\"" : "\"";
        out += fields[f].first;
        out += "\":";
        AppendJsonString(out, records[i].*fields[f].second);
      }
      out += "}";
    }
    out += "]";
  };
  list("overrides", overrides, kPriceTexts);
  out += ",";
  list("aliases", aliases, kAliasTexts);
}

Status ReadPricing(const rapidjson::Value& o, std::vector<PriceOverrideRecord>& overrides,
                   std::vector<ModelAliasRecord>& aliases) {
  auto texts = [](const rapidjson::Value& v, const char* name, const char* what, const auto& fields, auto& record) {
    if (!v.IsObject()) return InvalidArgument(std::string(what) + " must be an object");
    for (const auto& m : v.GetObject()) {
      const std::string_view member(m.name.GetString(), m.name.GetStringLength());
      if (std::none_of(std::begin(fields), std::end(fields), [&](const auto& f) { return member == f.first; })) {
        return InvalidArgument(std::string(name) + ": unknown member \"" + std::string(member) + "\"");
      }
    }
    for (const auto& [member, field] : fields) {
      auto it = v.FindMember(member);
      if (it == v.MemberEnd()) continue;  // "" (unset)
      if (!it->value.IsString()) return InvalidArgument(std::string(name) + "." + member + " must be a string");
      record.*field = std::string(it->value.GetString(), it->value.GetStringLength());
    }
    return Status::Ok();
  };
  for (const char* name : {"overrides", "aliases"}) {
    auto list = o.FindMember(name);
    if (list == o.MemberEnd()) continue;
    if (!list->value.IsArray()) return InvalidArgument(std::string(name) + " must be a list");
    for (const auto& e : list->value.GetArray()) {
      if (name == std::string_view("overrides")) {
        RETURN_IF_ERROR(texts(e, name, "a price override", kPriceTexts, overrides.emplace_back()));
      } else {
        RETURN_IF_ERROR(texts(e, name, "a model alias", kAliasTexts, aliases.emplace_back()));
      }
    }
  }
  return Status::Ok();
}

std::string_view SettingsActionName(SettingsAction a) { return kActions.Name(a); }

std::string EncodeSettingsChange(const SettingsChange& c) {
  std::string out = "{\"format\":" + std::to_string(kFormat);
  Member(out, "id", c.id);
  Member(out, "workspace", c.workspace);
  Member(out, "actor", c.actor);
  Member(out, "atMs", c.at_ms);
  Member(out, "action", SettingsActionName(c.action));
  if (c.action == SettingsAction::kPlanPut || c.action == SettingsAction::kPlanDelete) {
    out += ",\"plan\":{\"requestsPerMonth\":" + std::to_string(c.plan_requests_per_month) + "}}";
    return out;
  }
  if (c.action == SettingsAction::kPricingPut) {
    out += ",\"pricing\":{";
    AppendPricing(out, c.price_overrides, c.model_aliases);
    out += "}}";
    return out;
  }
  if (c.action == SettingsAction::kRoutesPut) {
    out += ",\"routes\":[";
    for (size_t i = 0; i < c.routes.size(); ++i) {
      out += i ? ",{\"sink\":" : "{\"sink\":";
      AppendJsonString(out, c.routes[i].sink);
      Texts(out, "types", c.routes[i].types);
      out += "}";
    }
    out += "]}";
    return out;
  }
  if (IsBudgetAction(c.action)) {
    const BudgetRecord& b = c.budget;
    out += ",\"budget\":{\"id\":";
    AppendJsonString(out, b.id);
    Member(out, "amountUsd", b.amount_usd);
    Member(out, "period", b.period);
    Texts(out, "thresholds", b.thresholds);
    Member(out, "project", b.project);
    Member(out, "environment", b.environment);
    Member(out, "endpointTag", b.endpoint_tag);
    Member(out, "tenant", b.tenant);
    Texts(out, "dataModes", b.data_modes);
    Member(out, "updatedMs", b.updated_ms);
    out += "}}";
    return out;
  }
  if (IsProjectAction(c.action)) {
    const ProjectRecord& p = c.project;
    out += ",\"project\":{\"slug\":";
    AppendJsonString(out, p.slug);
    Member(out, "name", p.name);
    Member(out, "createdMs", p.created_ms);
    out += ",\"environments\":[";
    for (size_t i = 0; i < p.environments.size(); ++i) {
      if (i) out += ",";
      AppendJsonString(out, p.environments[i]);
    }
    out += "]}}";
    return out;
  }
  const KeyRecord& k = c.key;
  out += ",\"key\":{\"id\":";
  AppendJsonString(out, k.id);
  Member(out, "sha256", k.sha256);
  Member(out, "role", RoleName(k.role));
  Member(out, "name", k.name);
  Member(out, "env", k.env);
  Member(out, "project", k.project);
  Member(out, "environment", k.environment);
  Member(out, "owner", k.owner);
  Member(out, "eventsPerSecond", k.events_per_second);
  Member(out, "burstEvents", k.burst_events);
  Member(out, "createdMs", k.created_ms);
  Member(out, "previousSha256", k.previous_sha256);
  Member(out, "previousUntilMs", k.previous_until_ms);
  out += ",\"revoked\":";
  out += k.revoked ? "true" : "false";
  out += "}}";
  return out;
}

Result<SettingsChange> DecodeSettingsChange(std::string_view value) {
  rapidjson::Document d;
  d.Parse(value.data(), value.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("a settings change must be a JSON object");
  int64_t format = 0;
  if (!Int(d, "format", format).ok() || format != kFormat) {
    return InvalidArgument("settings change format " + std::to_string(format) + " is not " +
                           std::to_string(kFormat) + " (written by another build)");
  }
  SettingsChange c;
  std::string action;
  RETURN_IF_ERROR(Text(d, "id", c.id));
  RETURN_IF_ERROR(Text(d, "workspace", c.workspace));
  RETURN_IF_ERROR(Text(d, "actor", c.actor));
  RETURN_IF_ERROR(Int(d, "atMs", c.at_ms));
  RETURN_IF_ERROR(Text(d, "action", action));
  std::optional<SettingsAction> a = kActions.Parse(action);
  if (!a) return InvalidArgument("unknown settings action \"" + action + "\"");
  c.action = *a;
  if (c.action == SettingsAction::kPlanPut || c.action == SettingsAction::kPlanDelete) {
    auto plan = d.FindMember("plan");
    if (plan == d.MemberEnd() || !plan->value.IsObject()) return InvalidArgument("plan must be an object");
    RETURN_IF_ERROR(Int(plan->value, "requestsPerMonth", c.plan_requests_per_month));
    return c;
  }
  if (c.action == SettingsAction::kPricingPut) {
    auto pricing = d.FindMember("pricing");
    if (pricing == d.MemberEnd() || !pricing->value.IsObject()) return InvalidArgument("pricing must be an object");
    RETURN_IF_ERROR(ReadPricing(pricing->value, c.price_overrides, c.model_aliases));
    return c;
  }
  if (c.action == SettingsAction::kRoutesPut) {
    auto routes = d.FindMember("routes");
    if (routes == d.MemberEnd() || !routes->value.IsArray()) return InvalidArgument("routes must be a list");
    for (const auto& r : routes->value.GetArray()) {
      if (!r.IsObject()) return InvalidArgument("a route must be an object");
      RouteRecord route;
      RETURN_IF_ERROR(Text(r, "sink", route.sink));
      RETURN_IF_ERROR(TextList(r, "types", route.types));
      c.routes.push_back(std::move(route));
    }
    return c;
  }
  if (IsBudgetAction(c.action)) {
    auto budget = d.FindMember("budget");
    if (budget == d.MemberEnd() || !budget->value.IsObject()) return InvalidArgument("budget must be an object");
    const rapidjson::Value& b = budget->value;
    BudgetRecord& r = c.budget;
    RETURN_IF_ERROR(Text(b, "id", r.id));
    RETURN_IF_ERROR(Text(b, "amountUsd", r.amount_usd));
    RETURN_IF_ERROR(Text(b, "period", r.period));
    RETURN_IF_ERROR(TextList(b, "thresholds", r.thresholds));
    RETURN_IF_ERROR(Text(b, "project", r.project));
    RETURN_IF_ERROR(Text(b, "environment", r.environment));
    RETURN_IF_ERROR(Text(b, "endpointTag", r.endpoint_tag));
    RETURN_IF_ERROR(Text(b, "tenant", r.tenant));
    RETURN_IF_ERROR(TextList(b, "dataModes", r.data_modes));
    RETURN_IF_ERROR(Int(b, "updatedMs", r.updated_ms));
    return c;
  }
  if (IsProjectAction(c.action)) {
    auto project = d.FindMember("project");
    if (project == d.MemberEnd() || !project->value.IsObject()) return InvalidArgument("project must be an object");
    const rapidjson::Value& p = project->value;
    RETURN_IF_ERROR(Text(p, "slug", c.project.slug));
    RETURN_IF_ERROR(Text(p, "name", c.project.name));
    RETURN_IF_ERROR(Int(p, "createdMs", c.project.created_ms));
    auto envs = p.FindMember("environments");
    if (envs == p.MemberEnd() || !envs->value.IsArray()) return InvalidArgument("environments must be a list");
    for (const auto& e : envs->value.GetArray()) {
      if (!e.IsString()) return InvalidArgument("environments must be texts");
      c.project.environments.emplace_back(e.GetString(), e.GetStringLength());
    }
    return c;
  }
  auto key = d.FindMember("key");
  if (key == d.MemberEnd() || !key->value.IsObject()) return InvalidArgument("key must be an object");
  const rapidjson::Value& k = key->value;
  KeyRecord& r = c.key;
  std::string role;
  RETURN_IF_ERROR(Text(k, "id", r.id));
  RETURN_IF_ERROR(Text(k, "sha256", r.sha256));
  RETURN_IF_ERROR(Text(k, "role", role));
  std::optional<Role> parsed = ParseRole(role);
  if (!parsed) return InvalidArgument("unknown role \"" + role + "\"");
  r.role = *parsed;
  RETURN_IF_ERROR(Text(k, "name", r.name));
  RETURN_IF_ERROR(Text(k, "env", r.env));
  RETURN_IF_ERROR(Text(k, "project", r.project));
  RETURN_IF_ERROR(Text(k, "environment", r.environment));
  RETURN_IF_ERROR(Text(k, "owner", r.owner));
  RETURN_IF_ERROR(Number(k, "eventsPerSecond", r.events_per_second));
  RETURN_IF_ERROR(Number(k, "burstEvents", r.burst_events));
  RETURN_IF_ERROR(Int(k, "createdMs", r.created_ms));
  RETURN_IF_ERROR(Text(k, "previousSha256", r.previous_sha256));
  RETURN_IF_ERROR(Int(k, "previousUntilMs", r.previous_until_ms));
  auto revoked = k.FindMember("revoked");
  if (revoked == k.MemberEnd() || !revoked->value.IsBool()) return InvalidArgument("revoked must be a boolean");
  r.revoked = revoked->value.GetBool();
  r.workspace = c.workspace;
  return c;
}

std::string NewChangeId() {
  std::random_device rd;
  const uint64_t v = (static_cast<uint64_t>(rd()) << 32) | rd();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "chg_";
  for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(v >> shift) & 0xf]);
  return id;
}

}  // namespace tokenmeter
