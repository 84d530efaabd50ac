#include "drift_evaluator.h"

#include <algorithm>
#include <set>

#include "aggregate/rollup_scan.h"
#include "budget_tracker.h"
#include "state/fixed_codec.h"
#include "detectors.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

constexpr int64_t kMinute = 60'000;
using MinuteSeries = std::map<int64_t, WindowStats>;         // minute start (ms) -> stats
using ValueSeries = std::map<std::string, MinuteSeries, std::less<>>;

int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint At(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
int64_t FloorMinute(int64_t ms) { return ms - ((ms % kMinute) + kMinute) % kMinute; }
std::string HourMinute(int64_t ms) { return FormatRfc3339(At(ms)).substr(11, 5); }

std::string Key(char tag, std::initializer_list<std::string_view> parts) {
  std::string k(1, tag);
  for (std::string_view p : parts) {
    k.push_back('\0');
    k.append(p);
  }
  return k;
}

struct WatermarkRow {
  int64_t last_evaluated = 0;  // start of the last minute evaluated; 0 = none
  int64_t first_minute = 0;    // first minute with an event; 0 = none yet
  int64_t max_event = 0;
};

std::string Encode(const WatermarkRow& w) {
  std::string s;
  PutFixed64(s, w.last_evaluated);
  PutFixed64(s, w.first_minute);
  PutFixed64(s, w.max_event);
  return s;
}

std::string Encode(const DriftEvaluator::Firing& f) {
  std::string s;
  PutFixed64(s, f.active);
  PutFixed64(s, f.since_ms);
  PutFixed64(s, f.last_notified_ms);
  PutFixed64(s, f.reminders);
  PutFixed64(s, f.episode);
  return s;
}

Status ReadDim(const RollupJournal& rollups, const RollupDeltas& deltas, const std::string& ws,
               Dimension d, int64_t from, int64_t to, ValueSeries& out) {
  RollupRange r = MakeRollupRange(ws, DataMode::kReal, Granularity::kMinute, d, At(from), At(to));
  auto add = [&](TimePoint bucket, RollupScope, std::string_view value, const RollupCounters& c) {
    WindowStats& w = out[std::string(value)][Ms(bucket)];
    w.requests += c.v[kRequests];
    w.successes += c.v[kSuccesses];
    w.cost_nano += c.v[kCostNano];
    w.unpriced += c.v[kUnpriced];
  };
  RETURN_IF_ERROR(rollups.Scan(r, add));
  ScanRollupDeltas(deltas, r, add);
  return Status::Ok();
}

// One decision input: which detector, for which key, about what.
struct Check {
  AlertType type;
  std::string key;  // suppression key: "" (workspace), "e:<endpoint>", "p:<prompt>"
  std::vector<std::pair<std::string, std::string>> scope;
  std::string label;     // "Cost per request of endpoint checkout"
  std::string unit;      // for resolved notices
  std::string observed;  // the current value, for resolved notices
  std::optional<Finding> finding;
  bool evaluable = true;  // enough data to say "normal": only then may it resolve
};

}  // namespace

void DriftEvaluator::Observe(const UsageEvent& e) {
  auto [it, fresh] = watermarks_.emplace(e.workspace, e.occurred_at);
  if (!fresh) it->second = std::max(it->second, e.occurred_at);
  auto [fit, ffresh] = first_seen_.emplace(e.workspace, e.occurred_at);
  if (!ffresh) fit->second = std::min(fit->second, e.occurred_at);
}

Result<DriftEvaluator::Firing*> DriftEvaluator::LoadFiring(const std::string& key) {
  auto it = firing_.find(key);
  if (it != firing_.end()) return &it->second;
  Result<std::optional<std::string>> v = store_.Get(Family::kState, key);
  if (!v.ok()) return v.status();
  Firing f;
  if (v->has_value() && (*v)->size() >= 40) {
    const std::string& b = **v;
    f.active = GetFixed64(b, 0) != 0;
    f.since_ms = GetFixed64(b, 8);
    f.last_notified_ms = GetFixed64(b, 16);
    f.reminders = static_cast<uint32_t>(GetFixed64(b, 24));
    f.episode = static_cast<uint32_t>(GetFixed64(b, 32));
  }
  return &firing_.emplace(key, f).first->second;
}

Status DriftEvaluator::Finish(const RollupDeltas& deltas, StateStore::Batch& batch,
                              std::vector<Alert>& alerts) {
  if (!rules_.config().detectors.enabled) return Status::Ok();
  for (const auto& [ws, wm] : watermarks_) RETURN_IF_ERROR(EvaluateWorkspace(ws, wm, deltas, batch, alerts));
  for (const auto& [k, f] : firing_) batch.Put(Family::kState, k, Encode(f));
  return Status::Ok();
}

Status DriftEvaluator::EvaluateWorkspace(const std::string& ws, TimePoint watermark,
                                         const RollupDeltas& deltas, StateStore::Batch& batch,
                                         std::vector<Alert>& alerts) {
  const DetectorConfig& c = rules_.config().detectors;
  const AlertingConfig& policy = rules_.config();
  std::string row_key = Key('w', {ws});
  Result<std::optional<std::string>> stored = store_.Get(Family::kState, row_key);
  if (!stored.ok()) return stored.status();
  WatermarkRow row;
  if (stored->has_value() && (*stored)->size() >= 24) {
    row.last_evaluated = GetFixed64(**stored, 0);
    row.first_minute = GetFixed64(**stored, 8);
    row.max_event = GetFixed64(**stored, 16);
  }
  int64_t first = FloorMinute(Ms(first_seen_.at(ws)));
  row.first_minute = row.first_minute == 0 ? first : std::min(row.first_minute, first);
  row.max_event = std::max(row.max_event, Ms(watermark));
  const int64_t baseline = static_cast<int64_t>(c.baseline_windows) * kMinute;
  int64_t closed_limit = FloorMinute(row.max_event - static_cast<int64_t>(c.grace_s) * 1000);
  // Catch-up is bounded: after a long gap only the last baseline's worth of minutes.
  int64_t from = std::max(row.last_evaluated ? row.last_evaluated + kMinute : row.first_minute,
                          closed_limit - baseline);
  if (from < closed_limit) {
    int64_t read_from = std::max(row.first_minute, from - baseline);
    ValueSeries total, endpoints, prompts, tenants;
    RETURN_IF_ERROR(ReadDim(rollups_, deltas, ws, Dimension::kTotal, read_from, closed_limit, total));
    RETURN_IF_ERROR(ReadDim(rollups_, deltas, ws, Dimension::kEndpointTag, read_from, closed_limit, endpoints));
    RETURN_IF_ERROR(ReadDim(rollups_, deltas, ws, Dimension::kPromptVersion, read_from, closed_limit, prompts));
    RETURN_IF_ERROR(ReadDim(rollups_, deltas, ws, Dimension::kTenant, read_from, closed_limit, tenants));
    const MinuteSeries& totals = total[""];
    for (auto it = totals.lower_bound(from); it != totals.end() && it->first < closed_limit; ++it) {
      const int64_t m = it->first;
      const WindowStats& now = it->second;
      const int64_t base_from = std::max(row.first_minute, m - baseline);
      std::vector<WindowStats> previous;  // every minute of the baseline, quiet ones as zero
      for (int64_t t = base_from; t < m; t += kMinute) {
        auto p = totals.find(t);
        previous.push_back(p == totals.end() ? WindowStats{} : p->second);
      }
      std::vector<Check> checks;
      auto share = [](int64_t part, int64_t whole) {
        return FormatMicro(whole ? static_cast<int64_t>(static_cast<__int128>(part) * 1'000'000 / whole) : 0);
      };
      checks.push_back({AlertType::kSpendSpike, "", {}, "Spend of workspace " + ws, "usd",
                        FormatUsd(NanoUsd{now.cost_nano}), SpendSpike(previous, now, c)});
      checks.push_back({AlertType::kRequestBurst, "", {}, "Traffic of workspace " + ws, "requests",
                        std::to_string(now.requests), RequestBurst(previous, now, c)});
      checks.push_back({AlertType::kUnpricedShare, "", {}, "Unpriced calls in workspace " + ws, "ratio",
                        share(now.unpriced, now.requests), UnpricedShare(now, c),
                        now.requests >= c.unpriced_min_requests});
      std::map<std::string, int64_t> tenant_spend;
      for (const auto& [tenant, series] : tenants) {
        if (tenant.empty()) continue;  // events without a tenant: no tenant to concentrate on
        if (auto t = series.find(m); t != series.end()) tenant_spend[tenant] = t->second.cost_nano;
      }
      {
        std::optional<Finding> f = TenantConcentration(tenant_spend, now.cost_nano, c);
        std::vector<std::pair<std::string, std::string>> scope;
        int64_t top = 0;
        for (const auto& [t, spend] : tenant_spend) {
          if (spend > top) {
            top = spend;
            scope = {{"tenant", t}};
          }
        }
        checks.push_back({AlertType::kTenantConcentration, "", f ? scope : decltype(scope){},
                          "Spend concentration in workspace " + ws, "ratio", share(top, now.cost_nano), f});
      }
      // Prompt versions first seen in this minute: the likely explanation of a drift.
      std::vector<std::string> new_prompts;
      for (const auto& [prompt, series] : prompts) {
        if (series.contains(m) && series.begin()->first == m && m > row.first_minute) new_prompts.push_back(prompt);
      }
      auto per_value = [&](const ValueSeries& values, char tag, const char* scope_key, const std::string& what) {
        for (const auto& [value, series] : values) {
          auto cur = series.find(m);
          if (cur == series.end()) continue;
          std::vector<WindowStats> prev;
          for (auto p = series.lower_bound(base_from); p != series.end() && p->first < m; ++p) prev.push_back(p->second);
          const WindowStats& w = cur->second;
          std::string cpr = FormatPicoUsd(w.requests ? static_cast<int64_t>(static_cast<__int128>(w.cost_nano) * 1000 / w.requests) : 0);
          checks.push_back({AlertType::kCostPerRequestDrift, std::string(1, tag) + ":" + value,
                            {{scope_key, value}}, "Cost per request of " + what + " " + value, "usd_per_request", cpr,
                            CostPerRequestDrift(prev, w, c), w.requests >= c.cpr_min_requests});
        }
      };
      per_value(endpoints, 'e', "endpointTag", "endpoint");
      per_value(prompts, 'p', "promptVersion", "prompt version");

      for (Check& ch : checks) {
        std::string type(AlertTypeName(ch.type));
        Result<Firing*> loaded = LoadFiring(Key('f', {ws, type, ch.key}));
        if (!loaded.ok()) return loaded.status();
        Firing& f = **loaded;
        AlertStatus status;
        if (ch.finding && !f.active) {
          f = Firing{true, m, m, 0, f.episode};
          status = AlertStatus::kFiring;
        } else if (ch.finding && policy.repeat_interval.count() > 0 &&
                   m - f.last_notified_ms >= std::chrono::duration_cast<std::chrono::milliseconds>(policy.repeat_interval).count()) {
          f.last_notified_ms = m;
          ++f.reminders;
          status = AlertStatus::kReminder;
        } else if (!ch.finding && f.active && ch.evaluable) {
          f.active = false;
          ++f.episode;
          if (!policy.notify_resolved) continue;
          status = AlertStatus::kResolved;
        } else {
          continue;
        }
        Alert a;
        a.workspace = ws;
        a.type = ch.type;
        a.status = status;
        a.severity = status == AlertStatus::kResolved ? AlertSeverity::kInfo : AlertSeverity::kWarning;
        uint32_t episode = status == AlertStatus::kResolved ? f.episode - 1 : f.episode;
        std::string since = FormatRfc3339(At(f.since_ms)), ep = std::to_string(episode),
                    seq = std::to_string(status == AlertStatus::kReminder ? f.reminders : 0);
        a.id = AlertId({ws, type, "detector", ch.key, since, ep, AlertStatusName(status), seq});
        a.scope = ch.scope;
        a.window_start = At(m);
        a.window_end = At(m + kMinute);
        a.at = At(m + kMinute);
        std::string window = "the minute from " + HourMinute(m) + " UTC";
        if (ch.finding) {
          a.unit = ch.finding->unit;
          a.observed = ch.finding->observed;
          a.baseline = ch.finding->baseline;
          a.threshold = ch.finding->threshold;
          a.message = ch.label + (status == AlertStatus::kReminder ? " still shows it in " : " changed in ") + window +
                      " (since " + HourMinute(f.since_ms) + " UTC): " + ch.finding->what + ".";
          if (ch.type == AlertType::kCostPerRequestDrift && !new_prompts.empty()) {
            std::string list;
            for (const std::string& p : new_prompts) list += (list.empty() ? "" : ", ") + p;
            a.message += " Prompt version first seen in this window: " + list + ".";
          }
        } else {
          a.unit = ch.unit;
          a.observed = ch.observed;
          a.message = ch.label + " is back to normal in " + window + " (it began " + HourMinute(f.since_ms) + " UTC).";
        }
        alerts.push_back(std::move(a));
      }
      row.last_evaluated = m;
    }
    row.last_evaluated = std::max(row.last_evaluated, closed_limit - kMinute);
  }
  batch.Put(Family::kState, row_key, Encode(row));
  return Status::Ok();
}

}  // namespace tokenmeter
