#include "tokenmeter/model/alert.h"

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/sha256.h"

namespace tokenmeter {
namespace {

constexpr std::string_view kTypeNames[] = {
    "budget_warning", "budget_exceeded",      "cost_per_request_drift", "spend_spike",
    "request_burst",  "tenant_concentration", "unpriced_share",         "plan_limit_reached"};
static_assert(std::size(kTypeNames) == static_cast<size_t>(AlertType::kCount));

}  // namespace

std::string_view AlertTypeName(AlertType t) { return kTypeNames[static_cast<size_t>(t)]; }

std::optional<AlertType> ParseAlertType(std::string_view s) {
  for (size_t i = 0; i < std::size(kTypeNames); ++i) {
    if (kTypeNames[i] == s) return static_cast<AlertType>(i);
  }
  return std::nullopt;
}

std::string_view AlertStatusName(AlertStatus s) {
  switch (s) {
    case AlertStatus::kFiring: return "firing";
    case AlertStatus::kReminder: return "reminder";
    case AlertStatus::kResolved: return "resolved";
  }
  return "firing";
}

std::string_view AlertSeverityName(AlertSeverity s) {
  switch (s) {
    case AlertSeverity::kInfo: return "info";
    case AlertSeverity::kWarning: return "warning";
    case AlertSeverity::kCritical: return "critical";
  }
  return "warning";
}

std::string AlertId(const std::vector<std::string_view>& parts) {
  std::string joined;
  for (std::string_view p : parts) {
    joined.append(p);
    joined.push_back('\0');
  }
  Sha256Digest digest = Sha256(joined);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "alrt_";
  for (int i = 0; i < 16; ++i) {
    id.push_back(kHex[digest[i] >> 4]);
    id.push_back(kHex[digest[i] & 0xf]);
  }
  return id;
}

std::string EncodeAlertJson(const Alert& a) {
  std::string out = "{\"id\":";
  AppendJsonString(out, a.id);
  out += ",\"workspace\":";
  AppendJsonString(out, a.workspace);
  out += ",\"type\":";
  AppendJsonString(out, AlertTypeName(a.type));
  out += ",\"status\":";
  AppendJsonString(out, AlertStatusName(a.status));
  out += ",\"severity\":";
  AppendJsonString(out, AlertSeverityName(a.severity));
  out += ",\"scope\":{";
  for (size_t i = 0; i < a.scope.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(out, a.scope[i].first);
    out.push_back(':');
    AppendJsonString(out, a.scope[i].second);
  }
  out += "},\"window\":{\"start\":\"" + FormatRfc3339(a.window_start) + "\",\"end\":\"" +
         FormatRfc3339(a.window_end) + "\"},\"unit\":";
  AppendJsonString(out, a.unit);
  out += ",\"observed\":";
  AppendJsonString(out, a.observed);
  if (!a.threshold.empty()) {
    out += ",\"threshold\":";
    AppendJsonString(out, a.threshold);
  }
  if (!a.baseline.empty()) {
    out += ",\"baseline\":";
    AppendJsonString(out, a.baseline);
  }
  out += ",\"message\":";
  AppendJsonString(out, a.message);
  out += ",\"at\":\"" + FormatRfc3339(a.at) + "\"";
  if (!a.details_json.empty()) out += ",\"details\":" + a.details_json;
  out += "}";
  return out;
}

}  // namespace tokenmeter
