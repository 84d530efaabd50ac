#include "budget_tracker.h"

#include <algorithm>

#include "state/fixed_codec.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

using namespace std::chrono;

// ppm with six fixed decimals: 800001 -> "0.800001".
std::string FixedPpm(int64_t ppm) {
  std::string frac = std::to_string(ppm % 1'000'000);
  return std::to_string(ppm / 1'000'000) + "." + std::string(6 - frac.size(), '0') + frac;
}

// Dollars for people: to the cent from $1 ("$1234.57", rounded half up); below $1 every
// significant digit ("$0.000045"), so small budgets do not read "$0.00".
std::string HumanUsd(int64_t nano) {
  if (nano < 1'000'000'000) {
    std::string s = FormatUsd(NanoUsd{nano});
    while (s.size() > 4 && s.back() == '0') s.pop_back();
    return "$" + s;
  }
  int64_t cents = (nano + 5'000'000) / 10'000'000;
  std::string c = std::to_string(cents % 100);
  return "$" + std::to_string(cents / 100) + "." + (c.size() < 2 ? "0" : "") + c;
}

std::string PeriodLabel(TimePoint start, BudgetPeriod p) {
  std::string day = FormatRfc3339(start).substr(0, 10);
  return p == BudgetPeriod::kMonth ? day.substr(0, 7) : day;
}

int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

std::string BudgetState::Encode() const {
  std::string out;
  PutFixed64(out, spend_nano);
  PutFixed64(out, requests);
  PutFixed64(out, crossed_ppm);
  PutFixed64(out, episode);
  PutFixed64(out, reminders);
  PutFixed64(out, last_notified_ms);
  PutFixed64(out, last_event_ms);
  PutFixed64(out, exceeded_at_ms);
  return out;
}

BudgetState BudgetState::Decode(std::string_view b) {
  BudgetState s;
  if (b.size() < 64) return s;
  s.spend_nano = GetFixed64(b, 0);
  s.requests = GetFixed64(b, 8);
  s.crossed_ppm = static_cast<uint32_t>(GetFixed64(b, 16));
  s.episode = static_cast<uint32_t>(GetFixed64(b, 24));
  s.reminders = static_cast<uint32_t>(GetFixed64(b, 32));
  s.last_notified_ms = GetFixed64(b, 40);
  s.last_event_ms = GetFixed64(b, 48);
  s.exceeded_at_ms = GetFixed64(b, 56);
  return s;
}

TimePoint PeriodStart(TimePoint t, BudgetPeriod p) {
  sys_days day = floor<days>(t);
  if (p == BudgetPeriod::kDay) return TimePoint(duration_cast<milliseconds>(day.time_since_epoch()));
  year_month_day ymd(day);
  sys_days first = sys_days(ymd.year() / ymd.month() / 1);
  return TimePoint(duration_cast<milliseconds>(first.time_since_epoch()));
}

TimePoint PeriodEnd(TimePoint start, BudgetPeriod p) {
  sys_days day = floor<days>(start);
  if (p == BudgetPeriod::kDay) return TimePoint(duration_cast<milliseconds>((day + days(1)).time_since_epoch()));
  year_month_day ymd(day);
  sys_days next = sys_days((ymd.year() / ymd.month() / 1) + months(1));
  return TimePoint(duration_cast<milliseconds>(next.time_since_epoch()));
}

bool BudgetMatches(const BudgetConfig& b, const UsageEvent& e) {
  if (e.workspace != b.workspace) return false;
  if (std::find(b.data_modes.begin(), b.data_modes.end(), e.data_mode) == b.data_modes.end()) return false;
  if (!b.project.empty() && e.project != b.project) return false;
  if (!b.environment.empty() && e.environment != b.environment) return false;
  if (!b.endpoint_tag.empty() && e.endpoint_tag != b.endpoint_tag) return false;
  if (!b.tenant.empty() && e.tenant_id != b.tenant) return false;
  return true;
}

std::string_view BudgetStateName(uint32_t crossed_ppm) {
  if (crossed_ppm == 0) return "ok";
  return crossed_ppm >= kExceededPpm ? "exceeded" : "warning";
}

uint32_t CrossedLine(const BudgetConfig& b, int64_t spend_nano) {
  uint32_t best = 0;
  auto reaches = [&](uint32_t line) {
    return static_cast<__int128>(spend_nano) * kExceededPpm >= static_cast<__int128>(b.amount.value) * line;
  };
  for (uint32_t line : b.thresholds_ppm) {
    if (reaches(line)) best = std::max(best, line);
  }
  if (reaches(kExceededPpm)) best = std::max(best, kExceededPpm);
  return spend_nano > 0 ? best : 0;
}

std::string FormatPpm(uint32_t ppm) {
  std::string s = FixedPpm(ppm);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

BudgetForecast Forecast(const BudgetConfig& b, const BudgetState& s, TimePoint period_start,
                        TimePoint as_of) {
  BudgetForecast f;
  TimePoint end = PeriodEnd(period_start, b.period);
  as_of = std::clamp(as_of, period_start, end);
  // At least a minute of history, so the first call of a period does not extrapolate wildly.
  int64_t elapsed = std::max<int64_t>(Ms(as_of) - Ms(period_start), 60'000);
  int64_t length = Ms(end) - Ms(period_start);
  f.projected.value = static_cast<int64_t>(static_cast<__int128>(s.spend_nano) * length / elapsed);
  if (s.exceeded_at_ms != 0) {
    f.exhausts_at = TimePoint(milliseconds(s.exceeded_at_ms));
  } else if (s.spend_nano > 0) {
    __int128 at = Ms(period_start) + static_cast<__int128>(b.amount.value) * elapsed / s.spend_nano;
    if (at < Ms(end)) f.exhausts_at = TimePoint(milliseconds(static_cast<int64_t>(at)));
  }
  return f;
}

std::string BudgetStatusJson(const BudgetConfig& b, const BudgetState& s, TimePoint period_start,
                             TimePoint as_of) {
  BudgetForecast f = Forecast(b, s, period_start, as_of);
  int64_t util_ppm = static_cast<int64_t>(static_cast<__int128>(s.spend_nano) * kExceededPpm / b.amount.value);
  std::string out = "{\"budget\":";
  AppendJsonString(out, b.id);
  out += ",\"period\":\"";
  out += b.period == BudgetPeriod::kMonth ? "month" : "day";
  out += "\",\"periodStart\":\"" + FormatRfc3339(period_start) + "\",\"periodEnd\":\"" +
         FormatRfc3339(PeriodEnd(period_start, b.period)) + "\",\"scope\":{";
  std::string scope;
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    if (!scope.empty()) scope.push_back(',');
    AppendJsonString(scope, k);
    scope.push_back(':');
    AppendJsonString(scope, v);
  };
  add("project", b.project);
  add("environment", b.environment);
  add("endpointTag", b.endpoint_tag);
  add("tenant", b.tenant);
  out += scope + "},\"limitUsd\":\"" + FormatUsd(b.amount) + "\",\"spendUsd\":\"" +
         FormatUsd(NanoUsd{s.spend_nano}) + "\",\"spendNanoUsd\":" + std::to_string(s.spend_nano) +
         ",\"requests\":" + std::to_string(s.requests) + ",\"utilization\":\"" + FixedPpm(util_ppm) +
         "\",\"state\":\"" + std::string(BudgetStateName(CrossedLine(b, s.spend_nano))) +
         "\",\"thresholds\":[";
  for (size_t i = 0; i < b.thresholds_ppm.size(); ++i) {
    if (i) out.push_back(',');
    out += "\"" + FormatPpm(b.thresholds_ppm[i]) + "\"";
  }
  out += "],\"forecast\":{\"projectedSpendUsd\":\"" + FormatUsd(f.projected) + "\",\"exhaustsAt\":";
  out += f.exhausts_at ? "\"" + FormatRfc3339(*f.exhausts_at) + "\"" : std::string("null");
  out += "}}";
  return out;
}

namespace {

Alert BuildBudgetAlert(const BudgetConfig& b, const BudgetState& s, TimePoint period_start,
                       TimePoint at, AlertStatus status, uint32_t line, uint32_t episode,
                       uint32_t reminder) {
  Alert a;
  a.workspace = b.workspace;
  a.type = line >= kExceededPpm ? AlertType::kBudgetExceeded : AlertType::kBudgetWarning;
  a.status = status;
  a.severity = status == AlertStatus::kResolved ? AlertSeverity::kInfo
               : line >= kExceededPpm           ? AlertSeverity::kCritical
                                                : AlertSeverity::kWarning;
  std::string period = FormatRfc3339(period_start);
  std::string ppm = std::to_string(line), ep = std::to_string(episode), seq = std::to_string(reminder);
  a.id = AlertId({b.workspace, AlertTypeName(a.type), "budget", b.id, period, ppm, ep,
                  AlertStatusName(status), seq});
  a.scope.emplace_back("budget", b.id);
  if (!b.project.empty()) a.scope.emplace_back("project", b.project);
  if (!b.environment.empty()) a.scope.emplace_back("environment", b.environment);
  if (!b.endpoint_tag.empty()) a.scope.emplace_back("endpointTag", b.endpoint_tag);
  if (!b.tenant.empty()) a.scope.emplace_back("tenant", b.tenant);
  a.window_start = period_start;
  a.window_end = PeriodEnd(period_start, b.period);
  a.unit = "usd";
  a.observed = FormatUsd(NanoUsd{s.spend_nano});
  int64_t line_nano = static_cast<int64_t>(static_cast<__int128>(b.amount.value) * line / kExceededPpm);
  a.threshold = FormatUsd(NanoUsd{line_nano});
  a.at = at;
  int64_t util_permille =
      static_cast<int64_t>(static_cast<__int128>(s.spend_nano) * 1000 / b.amount.value);
  std::string pct = std::to_string(util_permille / 10) + "." + std::to_string(util_permille % 10) + "%";
  std::string what = "Budget \"" + b.id + "\" of workspace " + b.workspace + " for " +
                     PeriodLabel(period_start, b.period) + " (UTC): ";
  std::string line_text = line == kExceededPpm
                              ? "exceeded its limit of " + HumanUsd(b.amount.value)
                              : "crossed " + FormatPpm(line) + " of its limit of " + HumanUsd(b.amount.value);
  switch (status) {
    case AlertStatus::kFiring:
      a.message = what + line_text + "; spent " + HumanUsd(s.spend_nano) + " (" + pct + ").";
      break;
    case AlertStatus::kReminder:
      a.message = what + "still at " + pct + " of " + HumanUsd(b.amount.value) + "; spent " +
                  HumanUsd(s.spend_nano) + " (reminder " + seq + ").";
      break;
    case AlertStatus::kResolved:
      a.message = what + "back below " +
                  (line == kExceededPpm ? std::string("its limit of ") : FormatPpm(line) + " of its limit of ") +
                  HumanUsd(b.amount.value) + " after a change; spent " + HumanUsd(s.spend_nano) + " (" +
                  pct + ").";
      break;
  }
  BudgetForecast f = Forecast(b, s, period_start, at);
  if (status != AlertStatus::kResolved && f.exhausts_at && line < kExceededPpm) {
    a.message += " At the current rate the budget is exhausted on " +
                 FormatRfc3339(*f.exhausts_at).substr(0, 10) + ".";
  } else if (status != AlertStatus::kResolved) {
    a.message += " Projected spend for the period: " + HumanUsd(f.projected.value) + ".";
  }
  a.details_json = BudgetStatusJson(b, s, period_start, at);
  a.details_json.insert(a.details_json.size() - 1, ",\"line\":\"" + FormatPpm(line) + "\"");
  return a;
}

}  // namespace

std::optional<Alert> EvaluateBudget(const BudgetConfig& b, const AlertingConfig& policy,
                                    BudgetState& s, TimePoint period_start, TimePoint at) {
  uint32_t line = CrossedLine(b, s.spend_nano);
  if (line >= kExceededPpm && s.exceeded_at_ms == 0) s.exceeded_at_ms = Ms(at);
  if (line < kExceededPpm) s.exceeded_at_ms = 0;
  if (line > s.crossed_ppm) {
    s.crossed_ppm = line;
    s.reminders = 0;
    s.last_notified_ms = Ms(at);
    return BuildBudgetAlert(b, s, period_start, at, AlertStatus::kFiring, line, s.episode, 0);
  }
  if (line < s.crossed_ppm) {  // only a changed budget lowers the line: spend never falls
    uint32_t was = s.crossed_ppm, episode = s.episode;
    s.crossed_ppm = line;
    s.episode = episode + 1;
    s.reminders = 0;
    s.last_notified_ms = Ms(at);
    if (!policy.notify_resolved) return std::nullopt;
    return BuildBudgetAlert(b, s, period_start, at, AlertStatus::kResolved, was, episode, 0);
  }
  int64_t repeat_ms = duration_cast<milliseconds>(policy.repeat_interval).count();
  if (line > 0 && repeat_ms > 0 && Ms(at) - s.last_notified_ms >= repeat_ms) {
    ++s.reminders;
    s.last_notified_ms = Ms(at);
    return BuildBudgetAlert(b, s, period_start, at, AlertStatus::kReminder, line, s.episode, s.reminders);
  }
  return std::nullopt;
}

std::optional<Alert> ApplyBudgetSpend(const BudgetConfig& b, const AlertingConfig& policy,
                                      BudgetState& s, TimePoint period_start, TimePoint at,
                                      std::optional<NanoUsd> cost) {
  ++s.requests;
  if (cost) s.spend_nano += cost->value;
  s.last_event_ms = std::max(s.last_event_ms, Ms(at));
  return EvaluateBudget(b, policy, s, period_start, at);
}

}  // namespace tokenmeter
