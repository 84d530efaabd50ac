// Alert: what the processor decided and the sinks deliver (schemas/json/alert.schema.json).
// An alert's id is derived from what it is about (workspace, type, scope, period or
// window, and which notice of that condition it is), never from when it was computed,
// so a replay of the same events after a crash decides the same id, and receivers can
// drop repeats by id (it is the webhook-id and the email Message-ID).
// Pure value code; any thread.
#ifndef TOKENMETER_MODEL_ALERT_H_
#define TOKENMETER_MODEL_ALERT_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmeter/base/clock.h"

namespace tokenmeter {

enum class AlertType : uint8_t {
  kBudgetWarning,
  kBudgetExceeded,
  kCostPerRequestDrift,
  kSpendSpike,
  kRequestBurst,
  kTenantConcentration,
  kUnpricedShare,
  kPlanLimitReached,
  kCount
};
std::string_view AlertTypeName(AlertType t);
std::optional<AlertType> ParseAlertType(std::string_view s);

// firing: the condition began; reminder: it still holds after the repeat interval;
// resolved: it cleared.
enum class AlertStatus : uint8_t { kFiring, kReminder, kResolved };
std::string_view AlertStatusName(AlertStatus s);

enum class AlertSeverity : uint8_t { kInfo, kWarning, kCritical };
std::string_view AlertSeverityName(AlertSeverity s);

struct Alert {
  std::string id;
  std::string workspace;
  AlertType type = AlertType::kBudgetWarning;
  AlertStatus status = AlertStatus::kFiring;
  AlertSeverity severity = AlertSeverity::kWarning;
  // What the alert is about, in a fixed order (e.g. {"budget","monthly"},{"project","web"}).
  std::vector<std::pair<std::string, std::string>> scope;
  TimePoint window_start, window_end;  // the budget period or the detector window, [start, end)
  std::string unit;                    // "usd", "ratio", "usd_per_request", "requests"
  std::string observed;                // exact decimal text
  std::string threshold;               // exact decimal text; "" if the alert has none
  std::string baseline;                // exact decimal text; "" if the alert has none
  std::string message;                 // one human sentence or two
  TimePoint at;                        // stream time of the event that decided it
  std::string details_json;            // a JSON object with type-specific fields, or ""
};

// "alrt_" + 32 hex digits of SHA-256 over the parts, each followed by a NUL byte.
std::string AlertId(const std::vector<std::string_view>& parts);

// The alert as one JSON object (the webhook body, the /v1/alerts item).
std::string EncodeAlertJson(const Alert& a);

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_ALERT_H_
