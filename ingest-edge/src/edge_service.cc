#include "tokenmeter/edge/edge_service.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "demo_events.h"
#include "edge_probe.h"
#include "ingest_response.h"
#include "rate_limiter.h"
#include "tokenmeter/auth/permissions.h"
#include "tokenmeter/base/crash_point.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/http/ops_endpoints.h"
#include "tokenmeter/model/cleanup_command.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {
namespace {

struct Workspace {
  WorkspaceConfig config;
  std::unordered_set<std::string> projects;
};

bool EqualsLowercase(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i]) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// application/json, with no charset parameter or a UTF-8 one (the body is read as UTF-8:
// a body declared in another charset would be misread, not converted).
bool IsJsonMediaType(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  if (!EqualsLowercase(TrimSpaces(content_type.substr(0, semicolon)), "application/json")) {
    return false;
  }
  std::string_view params =
      semicolon == std::string_view::npos ? std::string_view() : content_type.substr(semicolon + 1);
  while (!params.empty()) {
    const size_t next = params.find(';');
    std::string_view param = TrimSpaces(params.substr(0, next));
    params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos || !EqualsLowercase(TrimSpaces(param.substr(0, eq)), "charset")) {
      continue;
    }
    std::string_view charset = TrimSpaces(param.substr(eq + 1));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
      charset = charset.substr(1, charset.size() - 2);
    }
    if (!EqualsLowercase(charset, "utf-8") && !EqualsLowercase(charset, "utf8")) return false;
  }
  return true;
}

// POST here writes the demo set (DemoEvents) instead of a body's events.
constexpr std::string_view kDemoPath = "/v1/ingest/demo";

// DELETE here removes the workspace's (or the caller's) demo or test rows.
std::optional<DataMode> CleanupModeOf(std::string_view path) {
  if (path == "/v1/ingest/demo-data") return DataMode::kDemo;
  if (path == "/v1/ingest/test-data") return DataMode::kTest;
  return std::nullopt;
}

// The value of query parameter `name` in a request target ("" when absent).
std::string_view QueryValue(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  std::string_view rest = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
  }
  return {};
}

Route RouteOf(std::string_view path) {
  if (path == "/v1/ingest" || path == "/v1/ingest/llm-request" || path == "/api/v1/usage/ingest" ||
      path == kDemoPath || CleanupModeOf(path)) {
    return Route::kIngest;
  }
  if (path == "/healthz") return Route::kHealth;
  if (path == "/readyz") return Route::kReady;
  if (path == "/metrics") return Route::kMetrics;
  return Route::kOther;
}

// Why the bus refused, as the answer's reason and the rejection counter's label: a full
// disk is said as such, everything else is the bus being unavailable.
std::string_view BusReason(const Status& s) {
  return s.code() == Code::kNoSpace ? "disk_full" : "bus_unavailable";
}
Reject BusRejection(const Status& s) {
  return s.code() == Code::kNoSpace ? Reject::kDiskFull : Reject::kBusUnavailable;
}

}  // namespace

Status EdgeConfig::Validate() const {
  RETURN_IF_ERROR(limits.Validate());
  std::unordered_set<std::string> seen;
  for (const WorkspaceConfig& w : workspaces) {
    if (w.id.empty()) return InvalidArgument("workspaces[].id must not be empty");
    if (!seen.insert(w.id).second) return InvalidArgument("workspace " + w.id + " is listed twice");
    if (w.events_per_second <= 0 || w.burst_events < 1) {
      return InvalidArgument("workspace " + w.id + ": rate limits must be positive");
    }
    if (w.strict_projects && w.projects.empty()) {
      return InvalidArgument("workspace " + w.id + ": strict_projects needs a projects list");
    }
  }
  if (key_events_per_second <= 0 || key_burst_events < 1) {
    return InvalidArgument("edge key rate limits must be positive");
  }
  if (unavailable_retry_after_s < 1) return InvalidArgument("unavailable_retry_after_s >= 1");
  if (applied_wait_ms < 1 || applied_wait_ms > 60000) return InvalidArgument("edge.applied_wait_ms must be in [1, 60000]");
  return Status::Ok();
}

struct EdgeService::State {
  State(const EdgeConfig& c, const KeyRing& k, const Normalizer& n, Publisher& p, const Clock& cl,
        prometheus::Registry& r)
      : config(c), keys(k), parser(config.limits, n), publisher(p), clock(cl), registry(r),
        probe(r) {}

  const EdgeConfig config;
  const KeyRing& keys;
  const EventParser parser;
  Publisher& publisher;
  const Clock& clock;
  prometheus::Registry& registry;
  EdgeProbe probe;
  std::unique_ptr<OpsEndpoints> ops;  // /healthz, /readyz, /metrics
  RateLimiter limiter;
  std::unordered_map<std::string, Workspace> workspaces;
  mutable std::shared_mutex status_mu;  // readers (every request) do not block each other
  std::unordered_map<std::string, WorkspaceStatus> statuses;  // guarded by status_mu

  WorkspaceStatus StatusOf(const std::string& ws) const {
    std::shared_lock lock(status_mu);
    auto it = statuses.find(ws);
    return it == statuses.end() ? WorkspaceStatus{} : it->second;
  }

  // A workspace without a section of its own (its keys made at run time, or in the config
  // file only) has the defaults.
  const Workspace& WorkspaceFor(const std::string& id) const {
    static const Workspace kDefaults{};
    auto it = workspaces.find(id);
    return it == workspaces.end() ? kDefaults : it->second;
  }

  // Sends an ingest-route answer, counted by status and the time since this call.
  std::function<void(const Respond&, HttpResponse)> Finisher() {
    return [this, start = clock.Steady()](const Respond& respond, HttpResponse r) {
      probe.Request(Route::kIngest, r.status, clock.Steady() - start);
      respond(std::move(r));
    };
  }
  // The request's key, or nullptr with `refused` the one uniform 401 (so keys cannot be
  // probed) and the failure counted.
  KeyRef Authenticate(const HttpRequest& request, HttpResponse& refused) {
    KeyRejection why;
    KeyRef key = keys.Verify(request.api_key, why, clock.Now().time_since_epoch().count());
    if (key == nullptr) {
      probe.AuthFailed(why);
      refused = Refusal(401, "unauthorized", "missing or invalid API key", {});
    }
    return key;
  }

  // The Opsmeter status fields of an answer, as the processor last published them.
  AnswerStatus AnswerStatusOf(const std::string& ws) const {
    WorkspaceStatus st = StatusOf(ws);
    return {st.plan_limit_reached && clock.Now() < st.paused_until, st.plan_limit_reached, st.budget_warning,
            st.budget_exceeded};
  }
};

EdgeService::EdgeService(const EdgeConfig& config, const KeyRing& keys,
                         const Normalizer& normalizer, Publisher& publisher, const Clock& clock,
                         prometheus::Registry& registry)
    : state_(std::make_unique<State>(config, keys, normalizer, publisher, clock, registry)) {
  OpsEndpoints::Hooks hooks;
  hooks.unready = [this]() -> std::optional<OpsEndpoints::Unready> {
    if (shutting_down_) return OpsEndpoints::Unready{"shutting_down", "the edge is draining"};
    if (Status ready = state_->publisher.Ready(); !ready.ok()) {
      return OpsEndpoints::Unready{std::string(BusReason(ready)), ready.message()};
    }
    if (outcomes_following_ && !outcomes_following_()) {
      return OpsEndpoints::Unready{"outcomes_unavailable",
                                   "not yet following the outcomes topic: answers would say pending"};
    }
    if (also_unready_) return also_unready_();
    return std::nullopt;
  };
  hooks.before_scrape = [this] {
    state_->probe.Sample(server_ ? server_->InFlight() : 0, server_ ? server_->Connections() : 0,
                         state_->publisher.InFlight(), state_->publisher.Ready().ok());
  };
  state_->ops = std::make_unique<OpsEndpoints>(registry, std::move(hooks));
  for (const WorkspaceConfig& w : config.workspaces) {
    state_->workspaces.emplace(w.id, Workspace{w, {w.projects.begin(), w.projects.end()}});
  }
}

EdgeService::~EdgeService() = default;

void EdgeService::Handle(HttpRequest request, Respond respond) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  Route route = RouteOf(path);
  std::optional<DataMode> cleanup = CleanupModeOf(path);
  if (route == Route::kIngest && request.method == (cleanup ? "DELETE" : "POST")) {
    if (cleanup) {
      HandleCleanup(request, *cleanup, std::move(respond));
    } else {
      HandleIngest(std::move(request), std::move(respond));
    }
    return;
  }
  auto start = state_->clock.Steady();
  HttpResponse r;
  if (route == Route::kOther) {
    r = Refusal(404, "not_found", "no such endpoint", {});
  } else if (route == Route::kIngest) {
    r = Refusal(405, "method_not_allowed", "method not allowed on this endpoint", {});
    r.headers.emplace_back("Allow", cleanup ? "DELETE" : "POST");
  } else {
    r = state_->ops->Answer(request.method, path);
  }
  state_->probe.Request(route, r.status, state_->clock.Steady() - start);
  respond(std::move(r));
}

void EdgeService::HandleIngest(HttpRequest request, Respond respond) {
  State& s = *state_;
  auto finish = s.Finisher();

  // 1. Authenticate: every failure gets the same body, so keys cannot be probed.
  HttpResponse refused;
  KeyRef key = s.Authenticate(request, refused);
  if (key == nullptr) {
    s.probe.EventsRejected(Reject::kUnauthorized, 1);
    return finish(respond, std::move(refused));
  }
  if (!Allowed(key->role, Action::kIngest)) {
    s.probe.EventsRejected(Reject::kForbidden, 1);
    return finish(respond, Refusal(403, "forbidden", ForbiddenMessage(key->role, Action::kIngest),
                                   s.AnswerStatusOf(key->workspace)));
  }

  // 1b. A workspace paused by its plan limit: 402 until the next period. The processor
  // says so; the edge only stops taking events (the app's provider calls go on).
  WorkspaceStatus status = s.StatusOf(key->workspace);
  if (status.plan_limit_reached && s.clock.Now() < status.paused_until) {
    s.probe.EventsRejected(Reject::kPlanLimit, 1);
    auto left = std::chrono::duration_cast<std::chrono::seconds>(status.paused_until - s.clock.Now());
    return finish(respond, PlanLimitReached(static_cast<int>(std::max<int64_t>(1, left.count())), s.AnswerStatusOf(key->workspace)));
  }

  // 2. Media type (the demo path takes no body).
  std::string_view path = request.target;
  const bool demo = path.substr(0, path.find('?')) == kDemoPath;
  if (!demo && !IsJsonMediaType(request.content_type)) {
    s.probe.EventsRejected(Reject::kUnsupportedMedia, 1);
    return finish(respond, Refusal(415, "unsupported_media_type",
                                   "Content-Type must be application/json (UTF-8)", s.AnswerStatusOf(key->workspace)));
  }

  // 3. Parse and validate each event on its own.
  const Workspace& ws = s.WorkspaceFor(key->workspace);
  IngestContext ctx;
  ctx.workspace = key->workspace;
  ctx.api_key_id = key->id;
  ctx.default_project = key->project;
  ctx.default_environment = key->environment;
  std::shared_ptr<const std::unordered_set<std::string>> live_projects;  // held while the body is parsed
  if (projects_of_) live_projects = projects_of_(key->workspace);
  ctx.projects = projects_of_ ? live_projects.get() : &ws.projects;
  ctx.strict_projects = ws.config.strict_projects;
  ctx.received_at = s.clock.Now();
  // One per I/O thread, reused: its events keep their strings' buffers between bodies.
  // Nothing refers to it once this call returns (the records are encoded from it below,
  // the errors moved into the answer). What it keeps is bounded by the largest body the
  // thread has parsed (at most max_events_per_request events, their text at most the body's
  // max_body_bytes, doubled by string growth): a few MiB per thread.
  thread_local ParsedBody parsed;
  if (demo) {
    DemoEvents(key->workspace, key->id, ctx.received_at, parsed.events);
    parsed.body_error = BodyError::kNone;
    parsed.event_count = parsed.events.size();
    parsed.event_index.resize(parsed.events.size());
    for (size_t i = 0; i < parsed.events.size(); ++i) parsed.event_index[i] = i;
    parsed.errors.clear();
  } else {
    s.parser.ParseIngest(request.body, ctx, parsed);
  }
  if (parsed.body_error == BodyError::kTooManyEvents) {
    s.probe.EventsRejected(Reject::kTooManyEvents, 1);
    return finish(respond, Refusal(413, "too_many_events", parsed.body_message, s.AnswerStatusOf(key->workspace)));
  }
  if (parsed.body_error != BodyError::kNone) {
    s.probe.EventsRejected(Reject::kMalformedBody, 1);
    return finish(respond, Refusal(400, "malformed_body", parsed.body_message, s.AnswerStatusOf(key->workspace)));
  }
  size_t invalid = parsed.event_count - parsed.events.size();
  if (invalid) s.probe.EventsRejected(Reject::kInvalidEvent, invalid);
  if (parsed.events.empty()) return finish(respond, IngestResult({}, {}, parsed.errors, s.AnswerStatusOf(key->workspace)));

  // 4. Rate limits count events, not requests.
  const RateLimit key_limit{key->events_per_second > 0 ? key->events_per_second : s.config.key_events_per_second,
                            key->burst_events > 0 ? key->burst_events : s.config.key_burst_events};
  LimitDecision limit = s.limiter.Take(key->id, key_limit, key->workspace,
                                       {ws.config.events_per_second, ws.config.burst_events}, parsed.events.size(),
                                       s.clock.Steady());
  if (limit.scope == LimitScope::kTooLarge) {
    s.probe.EventsRejected(Reject::kRateLimited, parsed.events.size());
    return finish(respond, Refusal(413, "too_many_events",
                                   "the request holds more events than the rate-limit burst",
                                   s.AnswerStatusOf(key->workspace)));
  }
  if (limit.scope != LimitScope::kNone) {
    s.probe.EventsRejected(Reject::kRateLimited, parsed.events.size());
    return finish(respond,
                  RetryLater(429, "rate_limited",
                             limit.scope == LimitScope::kKey ? "this API key's event rate limit"
                                                             : "the workspace's event rate limit",
                             limit.retry_after_s, s.AnswerStatusOf(key->workspace)));
  }

  // 5. Publish; answer 202 only once every accepted event is durable.
  if (Status ready = s.publisher.Ready(); !ready.ok()) {
    s.probe.EventsRejected(BusRejection(ready), parsed.events.size());
    return finish(respond, RetryLater(503, BusReason(ready), ready.message(), s.config.unavailable_retry_after_s,
                                      s.AnswerStatusOf(key->workspace)));
  }
  // Reused per I/O thread too (only grown, so every record keeps its buffers): the
  // publisher copies them before Publish returns.
  thread_local std::vector<BusRecord> records;
  const size_t accepted = parsed.events.size();
  if (records.size() < accepted) records.resize(accepted);
  for (size_t i = 0; i < accepted; ++i) {
    records[i].key.assign(key->workspace);
    records[i].value.clear();
    EncodeBusRecord(parsed.events[i], records[i].value);  // sized once, from the event
  }
  // What the answer needs of each event, kept past this call (the parsed body is reused).
  std::vector<AnsweredEvent> answered(accepted);
  for (size_t i = 0; i < accepted; ++i) {
    const UsageEvent& e = parsed.events[i];
    AnsweredEvent& a = answered[i];
    a.index = static_cast<uint32_t>(parsed.event_index[i]);
    a.warnings = e.warnings;
    a.model = e.model;
    if (e.warnings & kWarnUnknownProject) a.project = e.project_raw;
    a.total_tokens = e.total_tokens.value_or(0);
    a.token_sum = e.input_tokens + e.output_tokens;
  }
  auto published = s.clock.Steady();
  s.publisher.PublishPlaced(
      std::span<const BusRecord>(records.data(), accepted),
      [&s, finish, respond, accepted, published, outcomes = outcomes_, ws = key->workspace,
       answered = std::move(answered), errors = std::move(parsed.errors)](
          Status st, int partition, std::span<const int64_t> offsets) mutable {
        s.probe.Delivery(s.clock.Steady() - published, st.ok());
        if (st.ok()) {
          CrashPoint("after_durable_before_response");
          s.probe.EventsAccepted(accepted);
          if (outcomes == nullptr || offsets.size() != accepted) {
            return finish(respond, IngestResult(answered, {}, errors, s.AnswerStatusOf(ws)));
          }
          // Applied mode: answered once the processor has applied them (the status it
          // published after them included), or as pending at the wait's end.
          auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.config.applied_wait_ms);
          outcomes->Await(partition, std::vector<int64_t>(offsets.begin(), offsets.end()), deadline,
                          [&s, finish, respond, ws = std::move(ws), answered = std::move(answered),
                           errors = std::move(errors)](std::vector<RecordOutcome> o) {
                            const size_t pending = static_cast<size_t>(std::count(
                                o.begin(), o.end(), RecordOutcome{RecordVerdict::kPending, false}));
                            if (pending) s.probe.EventsAnsweredPending(pending);
                            finish(respond, IngestResult(answered, o, errors, s.AnswerStatusOf(ws)));
                          });
          return;
        }
        s.probe.EventsRejected(BusRejection(st), accepted);
        finish(respond, RetryLater(503, BusReason(st),
                                   "events were not confirmed durable: " + st.message(),
                                   s.config.unavailable_retry_after_s, s.AnswerStatusOf(ws)));
      });
}

void EdgeService::HandleCleanup(const HttpRequest& request, DataMode mode, Respond respond) {
  State& s = *state_;
  auto finish = s.Finisher();
  HttpResponse refused;
  KeyRef key = s.Authenticate(request, refused);
  if (key == nullptr) return finish(respond, std::move(refused));
  const AnswerStatus status = s.AnswerStatusOf(key->workspace);
  const std::string_view scope = QueryValue(request.target, "scope");
  if (scope != "workspace" && scope != "mine") {
    return finish(respond, Refusal(400, "bad_request", "scope must be workspace or mine", status));
  }
  CleanupCommand command;
  command.id = NewCleanupId();
  command.workspace = key->workspace;
  command.mode = mode;
  command.requested_by = key->id;
  command.issued_ms = s.clock.Now().time_since_epoch().count();
  if (scope == "workspace") {
    if (!Allowed(key->role, Action::kCleanWorkspace)) {
      return finish(respond, Refusal(403, "forbidden", ForbiddenMessage(key->role, Action::kCleanWorkspace), status));
    }
  } else {
    // Mine: the rows ingested by every key of the asking key's owner.
    command.scope = CleanupScope::kMine;
    auto owner_of = [](const KeyRecord& k) -> const std::string& { return k.owner.empty() ? k.id : k.owner; };
    const std::string owner = owner_of(*key);
    s.keys.ForEach([&](const KeyRecord& k) {
      if (k.workspace == key->workspace && owner_of(k) == owner) command.key_ids.push_back(k.id);
    });
  }
  if (Status ready = s.publisher.Ready(); !ready.ok()) {
    return finish(respond, RetryLater(503, BusReason(ready), ready.message(), s.config.unavailable_retry_after_s, status));
  }
  BusRecord record{key->workspace, {}};
  EncodeCleanupCommand(command, record.value);
  Log(LogLevel::kInfo, "edge", "cleanup_requested",
      {{"cleanup_id", command.id}, {"workspace", command.workspace}, {"key_id", key->id},
       {"data_mode", std::string(DataModeName(mode))}, {"scope", std::string(scope)}});
  s.publisher.Publish(std::span<const BusRecord>(&record, 1),
                      [&s, finish, respond, status, command](Status st) {
                        if (!st.ok()) {
                          return finish(respond, RetryLater(503, BusReason(st),
                                                            "the cleanup was not confirmed durable: " + st.message(),
                                                            s.config.unavailable_retry_after_s, status));
                        }
                        HttpResponse r;
                        r.status = 202;
                        r.body = "{\"ok\":true,\"cleanupId\":\"" + command.id + "\",\"dataMode\":\"" +
                                 std::string(DataModeName(command.mode)) + "\",\"scope\":\"" +
                                 (command.scope == CleanupScope::kWorkspace ? "workspace" : "mine") +
                                 "\",\"status\":\"/v1/cleanups/" + command.id + "\"}";
                        finish(respond, std::move(r));
                      });
}

std::string EdgeService::ServerErrorMembers() {
  HttpResponse r = Refusal(400, "", "", {});
  // {"ok":false,"reason":"","message":"",<members>}: the members alone.
  const std::string head = R"({"ok":false,"reason":"","message":"")";
  return r.body.substr(head.size(), r.body.size() - head.size() - 1);
}

void EdgeService::SetWorkspaceStatus(const std::string& workspace, const WorkspaceStatus& status) {
  std::unique_lock lock(state_->status_mu);
  state_->statuses[workspace] = status;
}

}  // namespace tokenmeter
