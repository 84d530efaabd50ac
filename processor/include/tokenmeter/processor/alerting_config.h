// What the processor watches and whom it tells: budgets, plan limits, the repeat and
// resolve policy, and routes from a workspace's alerts to sinks (config keys
// `workspaces[].budgets`, `workspaces[].plan`, `workspaces[].alert_routes`, `alerts:`).
// Plain values, validated by AlertingConfig::Validate().
#ifndef TOKENMETER_PROCESSOR_ALERTING_CONFIG_H_
#define TOKENMETER_PROCESSOR_ALERTING_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tokenmeter/base/status.h"
#include "tokenmeter/base/units.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

enum class BudgetPeriod : uint8_t { kDay, kMonth };  // UTC calendar day or month

// Thresholds are fractions of the amount in parts per million (0.8 -> 800000).
inline constexpr uint32_t kExceededPpm = 1'000'000;

struct BudgetConfig {
  // Stable name, unique within the workspace; part of every alert id. Required.
  std::string id;
  std::string workspace;
  // Scope narrowing; "" = any. The event must match every non-empty one.
  std::string project, environment, endpoint_tag, tenant;
  BudgetPeriod period = BudgetPeriod::kMonth;
  // The budget, exact (decimal text in config). Must be > 0.
  NanoUsd amount;
  // Warning lines as fractions of the amount, ascending, each in (0, 10]. 1.0 (exceeded)
  // is always a line, listed or not. Default {0.8}.
  std::vector<uint32_t> thresholds_ppm = {800'000};
  // Which data modes count. Default real only.
  std::vector<DataMode> data_modes = {DataMode::kReal};
};

// Requests per UTC month per workspace; when reached, the edges answer 402 until the next
// month.
struct PlanLimit {
  std::string workspace;
  int64_t requests_per_month = 0;  // > 0
};

struct AlertRoute {
  std::string workspace;
  std::string sink;                // a sink id from `sinks:`
  std::vector<std::string> types;  // alert type names; empty = all
};

struct DetectorConfig {
  // Evaluate detectors at all. Default true.
  bool enabled = true;
  // A minute is closed (evaluated) once events this much later than its end have arrived
  // (event time). Later events still count in the rollups but not in the decision.
  // Default 60.
  int grace_s = 60;
  // How many previous minutes form the baseline. Default 30.
  int baseline_windows = 30;
  // Previous windows a baseline needs (with at least min_requests each). Default 10.
  int min_baseline_windows = 10;
  // Requests a window needs to count, for cost per request. Default 20.
  int64_t cpr_min_requests = 20;
  // Current cost per request must be >= ratio x median. Default 1.5.
  uint32_t cpr_min_ratio_ppm = 1'500'000;
  // ... and > median + k x 1.4826 x MAD. Default k = 3.
  uint32_t cpr_mad_k_ppm = 3'000'000;
  // Spend spike: current >= ratio x median of previous windows, and >= min. Defaults 3.0, $0.10.
  uint32_t spike_ratio_ppm = 3'000'000;
  int64_t spike_min_nano = 100'000'000;
  // Burst: requests >= ratio x baseline median and >= min, success ratio down by >= drop.
  // Defaults 3.0, 100, 0.10.
  uint32_t burst_ratio_ppm = 3'000'000;
  int64_t burst_min_requests = 100;
  uint32_t burst_success_drop_ppm = 100'000;
  // Tenant concentration: top tenant's share of spend >= share with spend >= min.
  // Defaults 0.5, $1.00.
  uint32_t tenant_share_ppm = 500'000;
  int64_t tenant_min_spend_nano = 1'000'000'000;
  // Unpriced share: unpriced / requests >= share with requests >= min. Defaults 0.05, 20.
  uint32_t unpriced_share_ppm = 50'000;
  int64_t unpriced_min_requests = 20;
};

struct AlertingConfig {
  std::vector<BudgetConfig> budgets;
  std::vector<PlanLimit> plan_limits;
  std::vector<AlertRoute> routes;
  // Drift and anomaly detectors (config `detectors:`), for every workspace.
  DetectorConfig detectors;
  // While a condition holds, one reminder per interval (stream time); 0 = no reminders.
  // Default 4 h.
  std::chrono::seconds repeat_interval{4 * 3600};
  // Send a resolved notice when a condition clears (e.g. a budget raised mid-period).
  // Default true.
  bool notify_resolved = true;

  Status Validate() const;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_ALERTING_CONFIG_H_
