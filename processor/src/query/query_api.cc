#include "query_api.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "aggregate/rollup.h"
#include "aggregate/rollup_scan.h"
#include "cleanup/data_cleanup.h"
#include "dedup/dedup_record.h"
#include "request_params.h"
#include "window.h"
#include "export_api.h"
#include "events/stored_event.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/units.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

// Calls fn(bucket_start, scope, value, counters) for every rollup row of (workspace,
// mode, gran, dim) whose bucket starts in [from, to), whose scope is the window's and
// whose value `want` wants (all by default).
template <typename Fn>
Status ScanRollupsInScope(const RollupJournal& rollups, std::string_view ws, const Window& w, Dimension dim, Fn fn,
                          ValueFilter want = {}) {
  for (DataMode mode : w.modes) {
    RollupRange r = MakeRollupRange(ws, mode, w.gran, dim, w.scan_from, w.to);
    RETURN_IF_ERROR(rollups.Scan(
        r,
        [&](TimePoint bucket, RollupScope scope, std::string_view value, const RollupCounters& c) {
          if (w.environment && scope.environment != *w.environment) return;
          if (w.project && scope.project != *w.project) return;
          fn(bucket, scope, value, c);
        },
        want));
  }
  return Status::Ok();
}
// The same, fn(bucket_start, value, counters).
template <typename Fn>
Status ScanRollups(const RollupJournal& rollups, std::string_view ws, const Window& w, Dimension dim, Fn fn,
                   ValueFilter want = {}) {
  return ScanRollupsInScope(
      rollups, ws, w, dim,
      [&](TimePoint bucket, RollupScope, std::string_view value, const RollupCounters& c) { fn(bucket, value, c); },
      want);
}

// Hashes a list's group names, looked up by string_view without a copy.
struct GroupHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

bool IsEmpty(const RollupCounters& c) {
  return c.latency.buckets.empty() && std::all_of(c.v.begin(), c.v.end(), [](int64_t x) { return x == 0; });
}

void AppendCounters(std::string& out, const RollupCounters& c) {
  const auto& v = c.v;
  out += "\"requests\":" + std::to_string(v[kRequests]) + ",\"successes\":" + std::to_string(v[kSuccesses]) +
         ",\"errors\":" + std::to_string(v[kErrors]) + ",\"duplicates\":" + std::to_string(v[kDuplicates]) +
         ",\"inputTokens\":" + std::to_string(v[kInputTokens]) + ",\"outputTokens\":" + std::to_string(v[kOutputTokens]) +
         ",\"cachedTokens\":" + std::to_string(v[kCachedTokens]) + ",\"cacheWriteTokens\":" +
         std::to_string(v[kCacheWriteTokens]) + ",\"reasoningTokens\":" + std::to_string(v[kReasoningTokens]) +
         ",\"costUsd\":\"" + FormatUsd(NanoUsd{v[kCostNano]}) + "\",\"costNanoUsd\":" + std::to_string(v[kCostNano]) +
         ",\"unpricedRequests\":" + std::to_string(v[kUnpriced]) + ",\"avgLatencyMs\":" +
         (v[kLatencyCount] ? std::to_string(v[kLatencySumMs] / v[kLatencyCount]) : std::string("null"));
  for (auto [name, q] : {std::pair{"p50LatencyMs", 0.5}, {"p95LatencyMs", 0.95}, {"p99LatencyMs", 0.99}}) {
    std::optional<uint64_t> ms = c.latency.Quantile(q);
    out += std::string(",\"") + name + "\":" + (ms ? std::to_string(*ms) : std::string("null"));
  }
  // Copies received per counted request, as an exact decimal with 3 places.
  if (v[kRequests] > 0) {
    int64_t milli = (v[kRequests] + v[kDuplicates]) * 1000 / v[kRequests];
    std::string frac = std::to_string(milli % 1000);
    out += ",\"retryMultiplier\":\"" + std::to_string(milli / 1000) + "." + std::string(3 - frac.size(), '0') + frac + "\"";
  } else {
    out += ",\"retryMultiplier\":null";
  }
}

std::string WindowJson(const KeyRecord& key, const Window& w, const Params& p) {
  std::string out = "\"workspace\":";
  AppendJsonString(out, key.workspace);
  out += ",\"from\":\"" + FormatRfc3339(w.from) + "\",\"to\":\"" + FormatRfc3339(w.to) + "\",\"dataMode\":";
  auto mode = p.find("dataMode");
  AppendJsonString(out, mode == p.end() || mode->second.empty() ? "real" : mode->second);
  out += std::string(",\"retentionTruncated\":") + (w.truncated ? "true" : "false") + ",\"availableFrom\":\"" +
         FormatRfc3339(w.available_from) + "\"";
  return out;
}

// The list views and what each groups by: a dimension's values, or (projects,
// environments) the total rows by their scope.
enum class GroupBy { kValue, kProject, kEnvironment };
struct ListView {
  Dimension dim;
  GroupBy by;
};
std::optional<ListView> ListViewOf(std::string_view name) {
  static const std::map<std::string_view, ListView, std::less<>> kLists = {
      {"top-endpoints", {Dimension::kEndpointTag, GroupBy::kValue}},
      {"top-users", {Dimension::kUser, GroupBy::kValue}},
      {"top-tenants", {Dimension::kTenant, GroupBy::kValue}},
      {"prompt-versions", {Dimension::kPromptVersion, GroupBy::kValue}},
      {"models", {Dimension::kModel, GroupBy::kValue}},
      {"providers", {Dimension::kProvider, GroupBy::kValue}},
      {"projects", {Dimension::kTotal, GroupBy::kProject}},
      {"environments", {Dimension::kTotal, GroupBy::kEnvironment}}};
  auto it = kLists.find(name);
  if (it == kLists.end()) return std::nullopt;
  return it->second;
}

// A list narrowed to a drill-down attribute reads a pair dimension's rows: those whose
// `focus_first` (feature) or second part (prompt version, model) is the attribute's value,
// grouped by the other part. nullopt when no pair holds the two.
struct NarrowedList {
  Dimension pair;
  bool focus_first;
};
std::optional<NarrowedList> NarrowedListOf(Dimension list, Dimension focus) {
  if (focus == Dimension::kEndpointTag && list == Dimension::kPromptVersion) return NarrowedList{Dimension::kFeaturePrompt, true};
  if (focus == Dimension::kEndpointTag && list == Dimension::kModel) return NarrowedList{Dimension::kFeatureModel, true};
  if (focus == Dimension::kPromptVersion && list == Dimension::kEndpointTag) return NarrowedList{Dimension::kFeaturePrompt, false};
  if (focus == Dimension::kModel && list == Dimension::kEndpointTag) return NarrowedList{Dimension::kFeatureModel, false};
  return std::nullopt;
}

// GET /v1/models/unpriced: the models counted without a price in the window, by
// provider and model: requests, tokens, first and last bucket seen; most requests first.
HttpResponse UnpricedModels(const RollupJournal& rollups, const KeyRecord& key, const Window& w, const Params& p) {
  struct Seen {
    RollupCounters c;
    TimePoint first = TimePoint::max(), last = TimePoint::min();
  };
  std::map<std::string, Seen, std::less<>> by_model;
  Status s = ScanRollups(rollups, key.workspace, w, Dimension::kUnpricedModel,
                         [&](TimePoint bucket, std::string_view value, const RollupCounters& c) {
                           Seen& seen = by_model[std::string(value)];
                           seen.c.Add(c);
                           seen.first = std::min(seen.first, bucket);
                           seen.last = std::max(seen.last, bucket + std::chrono::milliseconds(BucketSpanMs(w.gran)));
                         });
  if (!s.ok()) return JsonError(503, "state_unavailable", s.message());
  std::vector<std::pair<std::string, Seen>> items;
  for (auto& [name, seen] : by_model) {
    if (seen.c.v[kUnpriced] > 0) items.emplace_back(name, std::move(seen));
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.second.c.v[kUnpriced] > b.second.c.v[kUnpriced]; });
  if (items.size() > w.limit) items.resize(w.limit);
  HttpResponse r;
  r.body = "{\"ok\":true," + WindowJson(key, w, p) + ",\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& [name, seen] = items[i];
    const size_t slash = name.find('/');
    if (i) r.body += ",";
    r.body += "{\"provider\":";
    AppendJsonString(r.body, std::string_view(name).substr(0, slash));
    r.body += ",\"model\":";
    AppendJsonString(r.body, slash == std::string::npos ? std::string_view() : std::string_view(name).substr(slash + 1));
    r.body += ",\"requests\":" + std::to_string(seen.c.v[kUnpriced]) +
              ",\"inputTokens\":" + std::to_string(seen.c.v[kInputTokens]) +
              ",\"outputTokens\":" + std::to_string(seen.c.v[kOutputTokens]) + ",\"firstSeen\":\"" +
              FormatRfc3339(seen.first) + "\",\"lastSeen\":\"" + FormatRfc3339(seen.last) + "\"}";
  }
  r.body += "]}";
  return r;
}

}  // namespace

bool QueryApi::Serves(std::string_view path) {
  return std::any_of(kRoutePrefixes.begin(), kRoutePrefixes.end(),
                     [path](std::string_view p) { return path.starts_with(p); });
}

HttpResponse QueryApi::Handle(const HttpRequest& request) const {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (request.method != "GET") return JsonError(405, "method_not_allowed", "query endpoints are GET");
  HttpResponse denied;
  KeyRef key = ReadKey(keys_, clock_, request, denied);
  if (key == nullptr) return denied;

  if (path.rfind("/v1/events/", 0) == 0) {
    std::string id = PercentDecode(path.substr(11));
    Result<DedupChoice> dedup = FindDedup(store_, dedup_, DedupKey(key->workspace, id));
    if (!dedup.ok()) return JsonError(503, "state_unavailable", dedup.status().message());
    const std::optional<DedupRecord>& record = dedup->record;
    const TimePoint now = clock_.Now();
    if (!record || record->Expired(now, retention_.dedup_window())) {
      return JsonError(404, "not_found", "no event with this requestId in this workspace");
    }
    std::optional<int64_t> occurred = EventKeyTime(record->event_key);
    if (occurred && TimePoint(std::chrono::milliseconds(*occurred)) < now - retention_.events_window()) {
      return JsonError(404, "not_found", "the event is past its retention");
    }
    Result<std::optional<std::string>> row = store_.Get(Family::kEvents, record->event_key);
    if (!row.ok()) return JsonError(503, "state_unavailable", row.status().message());
    if (!row->has_value()) return JsonError(404, "not_found", "the event is past its retention");
    std::optional<StoredEventJson> stored = StoredEventToJson(**row);
    if (!stored) return JsonError(500, "corrupt_state", "the stored event cannot be read");
    HttpResponse r;
    r.body = "{\"ok\":true,\"requestId\":";
    AppendJsonString(r.body, id);
    r.body += ",\"attempts\":" + std::to_string(record->attempts) + ",\"firstSeenAt\":\"" +
              FormatRfc3339(TimePoint(std::chrono::milliseconds(record->first_seen_ms))) +
              "\",\"event\":" + stored->event + ",\"cost\":" + stored->cost + "}";
    return r;
  }

  if (path.starts_with("/v1/cleanups/")) {
    // A cleanup the edge accepted: its result once the processor has applied it.
    const std::string id = PercentDecode(path.substr(13));
    Result<std::optional<std::string>> row = store_.Get(Family::kMeta, CleanupResultKey(key->workspace, id));
    if (!row.ok()) return JsonError(503, "state_unavailable", row.status().message());
    HttpResponse r;
    if (row->has_value()) {
      r.body = "{\"ok\":true,\"done\":true,\"cleanup\":" + **row + "}";
    } else {
      r.body = "{\"ok\":true,\"done\":false,\"cleanupId\":";
      AppendJsonString(r.body, id);
      r.body += "}";
    }
    return r;
  }

  Params params = ParseQuery(request.target);
  Window w;
  std::string bad = ParseWindow(params, clock_.Now(), w);
  if (!bad.empty()) return JsonError(400, "bad_query", bad);
  ApplyRetention(w, clock_.Now(), retention_);
  if (path == "/v1/models/unpriced") return UnpricedModels(rollups_, *key, w, params);
  if (path == "/v1/export") {
    auto of = params.find("of");
    if (of == params.end() || of->second.empty() || of->second == "events") {
      return ExportEvents(store_, dedup_, *key, params, w, clock_.Now(), retention_);
    }
    if (of->second == "rollups") return ExportRollups(store_, rollups_, *key, params, w);
    return JsonError(400, "bad_query", "of must be events or rollups");
  }
  if (!path.starts_with("/v1/dashboard/")) return JsonError(404, "not_found", "no such endpoint");
  std::string_view name = path.substr(14);
  HttpResponse r;
  if (name == "overview" || name == "timeseries") {
    Dimension dim = w.focus;
    std::string_view want_value = w.focus_value;
    RollupCounters total;
    std::map<TimePoint, RollupCounters> series;
    // A drill-down attribute's rows: a seek to its value in each bucket and scope.
    Status s = ScanRollups(
        rollups_, key->workspace, w, dim,
        [&](TimePoint bucket, std::string_view value, const RollupCounters& c) {
          if (value != want_value) return;
          total.Add(c);
          series[bucket].Add(c);
        },
        dim == Dimension::kTotal ? ValueFilter{} : ValueFilter{want_value, /*exact=*/true});
    if (!s.ok()) return JsonError(503, "state_unavailable", s.message());
    r.body = "{\"ok\":true," + WindowJson(*key, w, params);
    if (name == "overview") {
      r.body += ",\"totals\":{";
      AppendCounters(r.body, total);
      r.body += "}}";
    } else {
      r.body += ",\"granularity\":\"";
      r.body += w.gran == Granularity::kMinute ? "minute" : w.gran == Granularity::kHour ? "hour" : "day";
      r.body += "\",\"points\":[";
      bool first = true;
      for (const auto& [bucket, c] : series) {
        if (IsEmpty(c)) continue;  // nothing left in it (cleaned up)
        if (!first) r.body += ",";
        first = false;
        r.body += "{\"t\":\"" + FormatRfc3339(bucket) + "\",";
        AppendCounters(r.body, c);
        r.body += "}";
      }
      r.body += "]}";
    }
    return r;
  }
  std::optional<ListView> list = ListViewOf(name);
  if (!list) return JsonError(404, "not_found", "no such dashboard view");
  std::optional<NarrowedList> narrowed;
  if (w.focus != Dimension::kTotal) {
    narrowed = NarrowedListOf(list->dim, w.focus);
    if (!narrowed) {
      return JsonError(400, "bad_query",
                       "a list narrowed to a feature lists its prompt versions or models, one narrowed to a prompt "
                       "version or a model lists its features; the other filters apply to overview and timeseries "
                       "(every view takes project and environment)");
    }
  }
  // Events without a project, user or tenant are listed as "unknown". A group is looked up
  // by the row's own bytes (a high-cardinality list reads a row per value and bucket); its
  // name is copied once, when first seen.
  std::unordered_map<std::string, RollupCounters, GroupHash, std::equal_to<>> by_value;
  // A feature's pair rows are one run per bucket and scope: read by seeking to it.
  const std::string feature_run = narrowed && narrowed->focus_first ? w.focus_value + '\0' : std::string();
  Status s = ScanRollupsInScope(
      rollups_, key->workspace, w, narrowed ? narrowed->pair : list->dim,
      [&](TimePoint, RollupScope scope, std::string_view value, const RollupCounters& c) {
        if (narrowed) {  // a pair row: keep the focus's, grouped by the other part
          const size_t nul = value.find('\0');
          if (nul == std::string_view::npos) return;
          const std::string_view first = value.substr(0, nul), second = value.substr(nul + 1);
          if ((narrowed->focus_first ? first : second) != w.focus_value) return;
          value = narrowed->focus_first ? second : first;
        }
        std::string_view group = list->by == GroupBy::kProject       ? scope.project
                                 : list->by == GroupBy::kEnvironment ? scope.environment
                                                                     : value;
        if (group.empty()) group = "unknown";
        auto it = by_value.find(group);
        if (it == by_value.end()) it = by_value.emplace(std::string(group), RollupCounters{}).first;
        it->second.Add(c);
      },
      ValueFilter{feature_run});
  if (!s.ok()) return JsonError(503, "state_unavailable", s.message());
  // A group whose every counter is zero has nothing left in the window (its events were
  // cleaned up): not listed.
  std::vector<std::pair<std::string, RollupCounters>> items;
  items.reserve(by_value.size());
  for (auto& [value, c] : by_value) {
    if (!IsEmpty(c)) items.emplace_back(value, std::move(c));
  }
  auto score = [&](const RollupCounters& c) {
    if (w.sort == "requests") return c.v[kRequests];
    if (w.sort == "tokens") return c.v[kInputTokens] + c.v[kOutputTokens];
    return c.v[kCostNano];
  };
  // The highest scores first; equal scores by name.
  auto before = [&](const auto& a, const auto& b) {
    const int64_t sa = score(a.second), sb = score(b.second);
    return sa != sb ? sa > sb : a.first < b.first;
  };
  const size_t shown = std::min<size_t>(items.size(), w.limit);
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(shown), items.end(), before);
  items.resize(shown);
  r.body = "{\"ok\":true," + WindowJson(*key, w, params) + ",\"sort\":\"" + w.sort + "\",\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) r.body += ",";
    r.body += "{\"value\":";
    AppendJsonString(r.body, items[i].first);
    r.body += ",";
    AppendCounters(r.body, items[i].second);
    r.body += "}";
  }
  r.body += "]}";
  return r;
}

}  // namespace tokenmeter
