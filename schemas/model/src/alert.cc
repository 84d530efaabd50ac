#include "tokenmeter/model/alert.h"

#include "tokenmeter/base/enum_names.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/sha256.h"

namespace tokenmeter {
namespace {

constexpr EnumNames<AlertType, static_cast<size_t>(AlertType::kCount)> kTypes(
    {"budget_warning", "budget_exceeded", "cost_per_request_drift", "spend_spike",
     "request_burst", "tenant_concentration", "unpriced_share", "plan_limit_reached"});
constexpr EnumNames<AlertStatus, 3> kStatuses({"firing", "reminder", "resolved"});
constexpr EnumNames<AlertSeverity, 3> kSeverities({"info", "warning", "critical"});

}  // namespace

std::string_view AlertTypeName(AlertType t) { return kTypes.Name(t); }
std::optional<AlertType> ParseAlertType(std::string_view s) { return kTypes.Parse(s); }
std::string_view AlertStatusName(AlertStatus s) { return kStatuses.Name(s); }
std::string_view AlertSeverityName(AlertSeverity s) { return kSeverities.Name(s); }

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
