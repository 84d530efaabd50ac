#include "tokenmeter/settings/admin_api.h"

#include "admin_json.h"

#include <rapidjson/document.h>

#include <charconv>
#include <map>
#include <set>

#include "tokenmeter/auth/permissions.h"
#include "tokenmeter/base/crash_point.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

constexpr auto kApplyWait = std::chrono::seconds(2);
constexpr int64_t kMaxOverlapSeconds = 7 * 24 * 3600;
constexpr size_t kMaxTextBytes = 128;

HttpResponse Forbidden(const KeyRecord& key, Action action) {
  return JsonError(403, "forbidden", ForbiddenMessage(key.role, action));
}

// A refused change as an answer: what the settings' rules said.
HttpResponse Refused(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound:
      return JsonError(404, "not_found", s.message());
    case Code::kFailedPrecondition:
      return JsonError(409, "conflict", s.message());
    default:
      return JsonError(400, "bad_request", s.message());
  }
}

// The JSON object body of a request: members checked against `allowed` (an unknown one is
// an error naming it). An empty body is an empty object.
Result<rapidjson::Document> ObjectBody(const HttpRequest& request, const std::set<std::string_view>& allowed) {
  rapidjson::Document d;
  if (request.body.empty()) {
    d.SetObject();
    return d;
  }
  d.Parse(request.body.data(), request.body.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("the body must be a JSON object");
  for (auto m = d.MemberBegin(); m != d.MemberEnd(); ++m) {
    std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (!allowed.contains(name)) return InvalidArgument("unknown member \"" + std::string(name) + "\"");
  }
  return d;
}

Status TextMember(const rapidjson::Document& d, const char* name, std::string& out) {
  auto it = d.FindMember(name);
  if (it == d.MemberEnd()) return Status::Ok();
  if (!it->value.IsString()) return InvalidArgument(std::string(name) + " must be a string");
  std::string_view v(it->value.GetString(), it->value.GetStringLength());
  if (v.size() > kMaxTextBytes) return InvalidArgument(std::string(name) + " must be at most 128 bytes");
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20) return InvalidArgument(std::string(name) + " must not hold control characters");
  }
  out.assign(v);
  return Status::Ok();
}

Status NumberMember(const rapidjson::Document& d, const char* name, double& out) {
  auto it = d.FindMember(name);
  if (it == d.MemberEnd()) return Status::Ok();
  if (!it->value.IsNumber() || it->value.GetDouble() <= 0) return InvalidArgument(std::string(name) + " must be a positive number");
  out = it->value.GetDouble();
  return Status::Ok();
}

// A list of texts (absent: unchanged).
Status TextsMember(const rapidjson::Document& d, const char* name, std::optional<std::vector<std::string>>& out) {
  auto it = d.FindMember(name);
  if (it == d.MemberEnd()) return Status::Ok();
  if (!it->value.IsArray()) return InvalidArgument(std::string(name) + " must be a list of texts");
  out.emplace();
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return InvalidArgument(std::string(name) + " must be a list of texts");
    out->emplace_back(v.GetString(), v.GetStringLength());
  }
  return Status::Ok();
}

// A change to `workspace` by `key`, now: its id, who and when.
SettingsChange NewChange(const std::string& workspace, const KeyRecord& key, int64_t now_ms) {
  SettingsChange c;
  c.id = NewChangeId();
  c.workspace = workspace;
  c.actor = key.id;
  c.at_ms = now_ms;
  return c;
}

}  // namespace

void AdminApi::Handle(HttpRequest request, Respond respond) {
  KeyRejection why;
  KeyRef key = keys_.Verify(request.api_key, why, clock_.Now().time_since_epoch().count());
  if (key == nullptr) return respond(JsonError(401, "unauthorized", "missing or invalid API key"));
  HandleAs(request, *key, std::move(respond));
}

void AdminApi::HandleAs(const HttpRequest& request, const KeyRecord& key, Respond respond) {
  std::string_view path = request.target;
  const size_t q = path.find('?');
  const std::string_view query = q == std::string_view::npos ? std::string_view() : path.substr(q + 1);
  path = path.substr(0, q);
  const int64_t now_ms = clock_.Now().time_since_epoch().count();

  if (path == "/v1/admin/audit") {
    if (request.method != "GET") return respond(JsonError(405, "method_not_allowed", "the audit trail is read with GET"));
    if (!Allowed(key.role, Action::kReadAudit)) return respond(Forbidden(key, Action::kReadAudit));
    size_t limit = 100;
    if (query.starts_with("limit=")) {
      std::string_view v = query.substr(6);
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
      if (ec != std::errc() || end != v.data() + v.size() || limit < 1 || limit > 1000) {
        return respond(JsonError(400, "bad_request", "limit must be an integer in [1, 1000]"));
      }
    } else if (!query.empty()) {
      return respond(JsonError(400, "bad_request", "the only parameter is limit"));
    }
    HttpResponse r;
    r.body = AuditJson(settings_.Audit(key.workspace, limit));
    return respond(std::move(r));
  }

  if (path == "/v1/admin/config") {
    if (request.method != "GET") return respond(JsonError(405, "method_not_allowed", "the settings are exported with GET"));
    if (!Allowed(key.role, Action::kExportConfig)) return respond(Forbidden(key, Action::kExportConfig));
    HttpResponse r;
    r.content_type = "application/yaml";
    r.body = ExportYaml(settings_, key.workspace, now_ms);
    return respond(std::move(r));
  }
  if (path == "/v1/admin/workspaces") return CreateWorkspace(request, key, now_ms, std::move(respond));
  if (path == "/v1/admin/pricing") return HandlePricing(request, key, now_ms, std::move(respond));
  if (path == "/v1/admin/plan" || path == "/v1/admin/alert-routes") {
    return HandleAlerting(request, path, key, now_ms, std::move(respond));
  }
  if (path == "/v1/admin/budgets" || path.starts_with("/v1/admin/budgets/")) {
    return HandleBudgets(request, path, key, now_ms, std::move(respond));
  }
  if (path == "/v1/admin/projects" || path.starts_with("/v1/admin/projects/")) {
    return HandleProjects(request, path, key, now_ms, std::move(respond));
  }

  if (path == "/v1/admin/keys") {
    if (request.method == "GET") {
      if (!Allowed(key.role, Action::kListKeys)) return respond(Forbidden(key, Action::kListKeys));
      HttpResponse r;
      r.body = ListJson(key.workspace, "keys", settings_.Keys(key.workspace),
                        [this](std::string& out, const KeyRecord& k) { AppendKey(out, k, keys_.LastUsedMs(k.id)); });
      return respond(std::move(r));
    }
    if (request.method != "POST") return respond(JsonError(405, "method_not_allowed", "keys are listed with GET, created with POST"));
    if (!Allowed(key.role, Action::kManageKeys)) return respond(Forbidden(key, Action::kManageKeys));
    auto body = ObjectBody(request, {"role", "name", "env", "project", "environment", "owner", "eventsPerSecond", "burstEvents"});
    if (!body.ok()) return respond(JsonError(400, "bad_request", body.status().message()));
    std::string role_name, env = "live", name, project, environment, owner;
    double rate = 0, burst = 0;
    for (Status s : {TextMember(*body, "role", role_name), TextMember(*body, "env", env), TextMember(*body, "name", name),
                     TextMember(*body, "project", project), TextMember(*body, "environment", environment),
                     TextMember(*body, "owner", owner), NumberMember(*body, "eventsPerSecond", rate),
                     NumberMember(*body, "burstEvents", burst)}) {
      if (!s.ok()) return respond(JsonError(400, "bad_request", s.message()));
    }
    std::optional<Role> role = ParseRole(role_name);
    if (!role) return respond(JsonError(400, "bad_request", "role must be owner, admin, member or ingest"));
    if (*role == Role::kOwner && !Allowed(key.role, Action::kManageOwnerKeys)) {
      return respond(Forbidden(key, Action::kManageOwnerKeys));
    }
    if (env != "live" && env != "test") return respond(JsonError(400, "bad_request", "env must be live or test"));
    Result<NewKey> created = CreateApiKey(env, key.workspace, *role);
    if (!created.ok()) return respond(JsonError(500, "internal", created.status().message()));
    SettingsChange change = NewChange(key.workspace, key, now_ms);
    change.action = SettingsAction::kKeyCreate;
    change.key = created->record;
    change.key.name = name;
    change.key.project = project;
    change.key.environment = environment;
    change.key.owner = owner.empty() ? change.key.id : owner;
    change.key.events_per_second = rate;
    change.key.burst_events = burst;
    change.key.created_ms = now_ms;
    return Write(std::move(change), 201, std::move(created->key), std::move(respond));
  }

  // /v1/admin/keys/{id} (DELETE: revoke) and /v1/admin/keys/{id}/rotate (POST).
  constexpr std::string_view kKeyPrefix = "/v1/admin/keys/";
  if (!path.starts_with(kKeyPrefix)) return respond(JsonError(404, "not_found", "no such endpoint"));
  std::string_view rest = path.substr(kKeyPrefix.size());
  const size_t slash = rest.find('/');
  const std::string id(rest.substr(0, slash));
  const std::string_view verb = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (verb != "" && verb != "/rotate") return respond(JsonError(404, "not_found", "no such endpoint"));
  const bool rotate = verb == "/rotate";
  if (request.method != (rotate ? "POST" : "DELETE")) {
    return respond(JsonError(405, "method_not_allowed", rotate ? "a rotation is POST" : "a key is revoked with DELETE"));
  }
  if (!Allowed(key.role, Action::kManageKeys)) return respond(Forbidden(key, Action::kManageKeys));
  const std::vector<KeyRecord> keys = settings_.Keys(key.workspace);
  auto target = std::find_if(keys.begin(), keys.end(), [&](const KeyRecord& k) { return k.id == id; });
  if (target == keys.end()) return respond(JsonError(404, "not_found", "no key " + id + " in this workspace"));
  if (target->from_config) {
    return respond(JsonError(409, "conflict", "key " + id + " is declared in the config file; change it there"));
  }
  if (target->role == Role::kOwner && !Allowed(key.role, Action::kManageOwnerKeys)) {
    return respond(Forbidden(key, Action::kManageOwnerKeys));
  }
  SettingsChange change = NewChange(key.workspace, key, now_ms);
  change.key = *target;
  std::string secret;
  if (rotate) {
    auto body = ObjectBody(request, {"overlapSeconds"});
    if (!body.ok()) return respond(JsonError(400, "bad_request", body.status().message()));
    int64_t overlap = 0;
    if (auto it = body->FindMember("overlapSeconds"); it != body->MemberEnd()) {
      if (!it->value.IsInt64() || it->value.GetInt64() < 0 || it->value.GetInt64() > kMaxOverlapSeconds) {
        return respond(JsonError(400, "bad_request", "overlapSeconds must be an integer in [0, 604800]"));
      }
      overlap = it->value.GetInt64();
    }
    Result<NewKey> rotated = RotateApiKey(*target);
    if (!rotated.ok()) return respond(Refused(FailedPrecondition(rotated.status().message())));
    change.action = SettingsAction::kKeyRotate;
    change.key = rotated->record;
    change.key.previous_sha256 = target->sha256;
    change.key.previous_until_ms = now_ms + overlap * 1000;
    secret = std::move(rotated->key);
  } else {
    change.action = SettingsAction::kKeyRevoke;
    change.key.revoked = true;
  }
  Write(std::move(change), 200, std::move(secret), std::move(respond));
}

void AdminApi::HandleProjects(const HttpRequest& request, std::string_view path, const KeyRecord& key, int64_t now_ms,
                              Respond respond) {
  if (path == "/v1/admin/projects" && request.method == "GET") {
    if (!Allowed(key.role, Action::kRead)) return respond(Forbidden(key, Action::kRead));
    HttpResponse r;
    r.body = ListJson(key.workspace, "projects", settings_.Projects(key.workspace), AppendProject);
    return respond(std::move(r));
  }
  const bool create = path == "/v1/admin/projects";
  if (request.method != (create ? "POST" : "PATCH")) {
    return respond(JsonError(405, "method_not_allowed",
                             create ? "projects are listed with GET, created with POST" : "a project is changed with PATCH"));
  }
  if (!Allowed(key.role, Action::kManageProjects)) return respond(Forbidden(key, Action::kManageProjects));
  auto body = ObjectBody(request, create ? std::set<std::string_view>{"slug", "name", "environments"}
                                         : std::set<std::string_view>{"name", "environments"});
  if (!body.ok()) return respond(JsonError(400, "bad_request", body.status().message()));
  std::string name;
  std::optional<std::vector<std::string>> environments;
  SettingsChange change = NewChange(key.workspace, key, now_ms);
  ProjectRecord& p = change.project;
  if (create) {
    for (Status s : {TextMember(*body, "slug", p.slug), TextMember(*body, "name", name), TextsMember(*body, "environments", environments)}) {
      if (!s.ok()) return respond(JsonError(400, "bad_request", s.message()));
    }
    change.action = SettingsAction::kProjectCreate;
    p.name = name.empty() ? p.slug : name;
    p.environments = environments.value_or(std::vector<std::string>{});
    p.created_ms = now_ms;
    return Write(std::move(change), 201, "", std::move(respond));
  }
  const std::string slug(path.substr(std::string_view("/v1/admin/projects/").size()));
  const std::vector<ProjectRecord> projects = settings_.Projects(key.workspace);
  auto now = std::find_if(projects.begin(), projects.end(), [&](const ProjectRecord& r) { return r.slug == slug; });
  if (now == projects.end()) return respond(JsonError(404, "not_found", "no project " + slug + " in this workspace"));
  const bool has_name = body->HasMember("name");
  for (Status s : {TextMember(*body, "name", name), TextsMember(*body, "environments", environments)}) {
    if (!s.ok()) return respond(JsonError(400, "bad_request", s.message()));
  }
  change.action = SettingsAction::kProjectUpdate;
  p = *now;
  if (has_name) p.name = name.empty() ? p.slug : name;
  if (environments) p.environments = *environments;
  Write(std::move(change), 200, "", std::move(respond));
}

// A new workspace and its first owner key (shown once). Only an owner key of the config
// file (the installation's) may; a workspace exists once it has a key.
void AdminApi::CreateWorkspace(const HttpRequest& request, const KeyRecord& key, int64_t now_ms, Respond respond) {
  if (request.method != "POST") return respond(JsonError(405, "method_not_allowed", "a workspace is created with POST"));
  if (!Allowed(key.role, Action::kCreateWorkspace) || !key.from_config) {
    return respond(JsonError(403, "forbidden",
                             "only an owner key from the config file creates workspaces (this is " +
                                 std::string(key.from_config ? "not an owner key" : "a key made through the API") + ")"));
  }
  auto body = ObjectBody(request, {"id", "name"});
  if (!body.ok()) return respond(JsonError(400, "bad_request", body.status().message()));
  std::string id, name;
  for (Status s : {TextMember(*body, "id", id), TextMember(*body, "name", name)}) {
    if (!s.ok()) return respond(JsonError(400, "bad_request", s.message()));
  }
  if (id.empty()) return respond(JsonError(400, "bad_request", "id is required"));
  if (!settings_.Keys(id).empty()) return respond(JsonError(409, "conflict", "workspace " + id + " exists"));
  Result<NewKey> created = CreateApiKey("live", id, Role::kOwner);
  if (!created.ok()) return respond(JsonError(500, "internal", created.status().message()));
  SettingsChange change = NewChange(id, key, now_ms);
  change.action = SettingsAction::kKeyCreate;
  change.key = created->record;
  change.key.name = name.empty() ? "first owner" : name;
  change.key.owner = change.key.id;
  change.key.created_ms = now_ms;
  Write(std::move(change), 201, std::move(created->key), std::move(respond));
}

// The plan limit (GET, PUT {"requestsPerMonth"}, DELETE) and the alert routes (GET, PUT
// {"routes":[{"sink","types"}]}: the API's routes of the workspace, replaced whole).
void AdminApi::HandleAlerting(const HttpRequest& request, std::string_view path, const KeyRecord& key, int64_t now_ms,
                              Respond respond) {
  const bool plan = path == "/v1/admin/plan";
  if (request.method == "GET") {
    if (!Allowed(key.role, Action::kRead)) return respond(Forbidden(key, Action::kRead));
    HttpResponse r;
    r.body = "{\"ok\":true,\"workspace\":";
    AppendJsonString(r.body, key.workspace);
    if (plan) {
      std::map<std::string, int64_t> plans = settings_.AllPlans();
      r.body += ",\"requestsPerMonth\":" + (plans.contains(key.workspace) ? std::to_string(plans.at(key.workspace)) : "null");
    } else {
      std::map<std::string, std::vector<RouteRecord>> routes = settings_.AllRoutes();
      r.body += ",\"routes\":[";
      if (routes.contains(key.workspace)) {
        for (size_t i = 0; i < routes.at(key.workspace).size(); ++i) {
          if (i) r.body += ",";
          AppendRoute(r.body, routes.at(key.workspace)[i]);
        }
      }
      r.body += "]";
    }
    r.body += "}";
    return respond(std::move(r));
  }
  if (request.method != "PUT" && !(plan && request.method == "DELETE")) {
    return respond(JsonError(405, "method_not_allowed", plan ? "the plan limit is read with GET, set with PUT, removed with DELETE"
                                                             : "the alert routes are read with GET and set with PUT"));
  }
  if (!Allowed(key.role, Action::kManageAlerting)) return respond(Forbidden(key, Action::kManageAlerting));
  SettingsChange change = NewChange(key.workspace, key, now_ms);
  if (plan && request.method == "DELETE") {
    change.action = SettingsAction::kPlanDelete;
    return Write(std::move(change), 200, "", std::move(respond));
  }
  auto body = ObjectBody(request, {plan ? "requestsPerMonth" : "routes"});
  if (!body.ok()) return respond(JsonError(400, "bad_request", body.status().message()));
  if (plan) {
    auto it = body->FindMember("requestsPerMonth");
    if (it == body->MemberEnd() || !it->value.IsInt64()) {
      return respond(JsonError(400, "bad_request", "requestsPerMonth must be an integer"));
    }
    change.action = SettingsAction::kPlanPut;
    change.plan_requests_per_month = it->value.GetInt64();
    return Write(std::move(change), 200, "", std::move(respond));
  }
  auto it = body->FindMember("routes");
  if (it == body->MemberEnd() || !it->value.IsArray()) return respond(JsonError(400, "bad_request", "routes must be a list"));
  for (const auto& r : it->value.GetArray()) {
    if (!r.IsObject() || !r.HasMember("sink") || !r["sink"].IsString()) {
      return respond(JsonError(400, "bad_request", "each route is {\"sink\", \"types\"} with a sink id"));
    }
    RouteRecord route{r["sink"].GetString(), {}};
    if (r.HasMember("types")) {
      if (!r["types"].IsArray()) return respond(JsonError(400, "bad_request", "types must be a list of alert types"));
      for (const auto& t : r["types"].GetArray()) {
        if (!t.IsString()) return respond(JsonError(400, "bad_request", "types must be a list of alert types"));
        route.types.emplace_back(t.GetString(), t.GetStringLength());
      }
    }
    change.routes.push_back(std::move(route));
  }
  change.action = SettingsAction::kRoutesPut;
  Write(std::move(change), 200, "", std::move(respond));
}

// The workspace's price overrides and model aliases made through the API (GET; PUT
// {"overrides":[…],"aliases":[…]}: replaced whole, checked by the config file's rules).
void AdminApi::HandlePricing(const HttpRequest& request, const KeyRecord& key, int64_t now_ms, Respond respond) {
  if (request.method == "GET") {
    if (!Allowed(key.role, Action::kRead)) return respond(Forbidden(key, Action::kRead));
    std::map<std::string, LiveSettings::Pricing> all = settings_.AllPricing();
    const LiveSettings::Pricing none;
    const LiveSettings::Pricing& mine = all.contains(key.workspace) ? all.at(key.workspace) : none;
    HttpResponse r;
    r.body = "{\"ok\":true,\"workspace\":";
    AppendJsonString(r.body, key.workspace);
    r.body += ",";
    AppendPricing(r.body, mine.overrides, mine.aliases);
    r.body += "}";
    return respond(std::move(r));
  }
  if (request.method != "PUT") {
    return respond(JsonError(405, "method_not_allowed", "the pricing is read with GET and set with PUT"));
  }
  if (!Allowed(key.role, Action::kManagePricing)) return respond(Forbidden(key, Action::kManagePricing));
  auto body = ObjectBody(request, {"overrides", "aliases"});
  if (!body.ok()) return respond(JsonError(400, "bad_request", body.status().message()));
  SettingsChange change = NewChange(key.workspace, key, now_ms);
  change.action = SettingsAction::kPricingPut;
  if (Status s = ReadPricing(*body, change.price_overrides, change.model_aliases); !s.ok()) {
    return respond(JsonError(400, "bad_request", s.message()));
  }
  Write(std::move(change), 200, "", std::move(respond));
}

void AdminApi::HandleBudgets(const HttpRequest& request, std::string_view path, const KeyRecord& key, int64_t now_ms,
                             Respond respond) {
  if (path == "/v1/admin/budgets") {
    if (request.method != "GET") return respond(JsonError(405, "method_not_allowed", "budgets are listed with GET"));
    if (!Allowed(key.role, Action::kRead)) return respond(Forbidden(key, Action::kRead));
    HttpResponse r;
    r.body = ListJson(key.workspace, "budgets", settings_.Budgets(key.workspace), AppendBudget);
    return respond(std::move(r));
  }
  const std::string id(path.substr(std::string_view("/v1/admin/budgets/").size()));
  const bool put = request.method == "PUT";
  if (!put && request.method != "DELETE") {
    return respond(JsonError(405, "method_not_allowed", "a budget is set with PUT and deleted with DELETE"));
  }
  if (!Allowed(key.role, Action::kManageBudgets)) return respond(Forbidden(key, Action::kManageBudgets));
  SettingsChange change = NewChange(key.workspace, key, now_ms);
  BudgetRecord& b = change.budget;
  b.id = id;
  b.updated_ms = now_ms;
  if (!put) {
    change.action = SettingsAction::kBudgetDelete;
    return Write(std::move(change), 200, "", std::move(respond));
  }
  auto body = ObjectBody(request, {"amountUsd", "period", "thresholds", "project", "environment", "endpointTag", "tenant",
                                   "dataModes"});
  if (!body.ok()) return respond(JsonError(400, "bad_request", body.status().message()));
  std::optional<std::vector<std::string>> thresholds, modes;
  for (Status s : {TextMember(*body, "amountUsd", b.amount_usd), TextMember(*body, "period", b.period),
                   TextsMember(*body, "thresholds", thresholds), TextMember(*body, "project", b.project),
                   TextMember(*body, "environment", b.environment), TextMember(*body, "endpointTag", b.endpoint_tag),
                   TextMember(*body, "tenant", b.tenant), TextsMember(*body, "dataModes", modes)}) {
    if (!s.ok()) return respond(JsonError(400, "bad_request", s.message()));
  }
  if (b.amount_usd.empty()) return respond(JsonError(400, "bad_request", "amountUsd is required, e.g. \"500\""));
  if (b.period.empty()) b.period = "month";
  b.thresholds = thresholds.value_or(std::vector<std::string>{"0.8"});
  b.data_modes = modes.value_or(std::vector<std::string>{"real"});
  change.action = SettingsAction::kBudgetPut;
  const std::vector<BudgetRecord> existing = settings_.Budgets(key.workspace);
  const bool exists = std::any_of(existing.begin(), existing.end(), [&](const BudgetRecord& r) { return r.id == id; });
  Write(std::move(change), exists ? 200 : 201, "", std::move(respond));
}

void AdminApi::Write(SettingsChange change, int success_status, std::string secret, Respond respond) {
  if (Status s = settings_.Check(change); !s.ok()) return respond(Refused(s));
  if (Status ready = log_.Ready(); !ready.ok()) {
    HttpResponse r = JsonError(503, "settings_unavailable", "the settings log cannot take a change: " + ready.message());
    r.headers.emplace_back("Retry-After", "1");
    return respond(std::move(r));
  }
  BusRecord record{change.workspace, EncodeSettingsChange(change)};
  log_.PublishPlaced(
      std::span<const BusRecord>(&record, 1),
      [this, change = std::move(change), success_status, secret = std::move(secret), respond = std::move(respond)](
          Status st, int partition, std::span<const int64_t> offsets) mutable {
        if (!st.ok() || offsets.size() != 1) {
          HttpResponse r = JsonError(503, "settings_unavailable", "the change was not confirmed durable: " + st.message());
          r.headers.emplace_back("Retry-After", "1");
          return respond(std::move(r));
        }
        CrashPoint("settings_durable");
        // Answered once this process has applied it: then the new key works here at once.
        settings_.WhenApplied(
            partition, offsets[0], std::chrono::steady_clock::now() + kApplyWait,
            [change = std::move(change), success_status, secret = std::move(secret),
             respond = std::move(respond)](std::optional<AuditEntry> applied) {
              if (applied && !applied->refused.empty()) return respond(JsonError(409, "conflict", applied->refused));
              HttpResponse r;
              r.status = applied ? success_status : 202;
              r.body = "{\"ok\":true,\"changeId\":";
              AppendJsonString(r.body, change.id);
              r.body += ",\"applied\":";
              r.body += applied ? "true" : "false";
              if (!secret.empty()) {
                r.body += ",\"secret\":";
                AppendJsonString(r.body, secret);
              }
              if (change.action == SettingsAction::kPlanPut) {
                r.body += ",\"requestsPerMonth\":" + std::to_string(change.plan_requests_per_month);
              } else if (change.action == SettingsAction::kPricingPut) {
                r.body += ",";
                AppendPricing(r.body, change.price_overrides, change.model_aliases);
              } else if (change.action == SettingsAction::kRoutesPut) {
                r.body += ",\"routes\":[";
                for (size_t i = 0; i < change.routes.size(); ++i) {
                  if (i) r.body += ",";
                  AppendRoute(r.body, change.routes[i]);
                }
                r.body += "]";
              } else if (IsBudgetAction(change.action)) {
                r.body += ",\"budget\":";
                AppendBudget(r.body, change.budget);
              } else if (IsProjectAction(change.action)) {
                r.body += ",\"project\":";
                AppendProject(r.body, change.project);
              } else if (change.action != SettingsAction::kPlanDelete) {
                r.body += ",\"key\":";
                AppendKey(r.body, change.key);
              }
              r.body += "}";
              respond(std::move(r));
            });
      });
}

}  // namespace tokenmeter
