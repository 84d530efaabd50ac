// Drift and anomaly detectors (DESIGN.md "Budgets, drift and alerts"): pure decisions over
// closed 1-minute windows, each with thresholds and a minimum sample size, and a finding
// that says what changed. Ratios are integers in parts per million; money is nano-USD;
// cost per request is pico-USD (nano * 1000 / requests) so small per-call costs keep
// their digits. No floating point.
//
//   cost per request (per endpoint_tag or prompt_version): the current window against a
//     robust trailing baseline, the median of the previous windows' cost per request,
//     firing when it is at least `cpr_min_ratio` x the median and above median + k x
//     1.4826 x MAD;
//   spend spike: the current window's spend against the median of the previous windows
//     of the same length;
//   request burst: requests at least `burst_ratio` x the baseline median while the
//     success ratio fell by at least `burst_success_drop` from the baseline's;
//   tenant concentration: one tenant's share of the window's spend above a threshold;
//   unpriced share: the share of requests with an unknown model above a threshold.
// Any thread.
#ifndef TOKENMETER_PROCESSOR_EVALUATE_DETECTORS_H_
#define TOKENMETER_PROCESSOR_EVALUATE_DETECTORS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "tokenmeter/model/alert.h"
#include "tokenmeter/processor/alerting_config.h"

namespace tokenmeter {

struct WindowStats {
  int64_t requests = 0;
  int64_t successes = 0;
  int64_t cost_nano = 0;
  int64_t unpriced = 0;
};


struct Finding {
  AlertType type;
  std::string unit;       // "usd_per_request", "usd", "requests", "ratio"
  std::string observed;   // exact decimal text
  std::string baseline;   // "" when the detector has none
  std::string threshold;  // "" when the detector has none
  std::string what;       // a sentence fragment: what changed
};

std::optional<Finding> CostPerRequestDrift(std::span<const WindowStats> previous, const WindowStats& current,
                                           const DetectorConfig& c);
std::optional<Finding> SpendSpike(std::span<const WindowStats> previous, const WindowStats& current,
                                  const DetectorConfig& c);
std::optional<Finding> RequestBurst(std::span<const WindowStats> previous, const WindowStats& current,
                                    const DetectorConfig& c);
// `spend_by_tenant` in nano-USD; `total_nano` is the window's whole spend (events without
// a tenant included).
std::optional<Finding> TenantConcentration(const std::map<std::string, int64_t>& spend_by_tenant,
                                           int64_t total_nano, const DetectorConfig& c);
std::optional<Finding> UnpricedShare(const WindowStats& current, const DetectorConfig& c);

// Decimal text for integer micro-units: FormatMicro(1'500'000) == "1.500000".
std::string FormatMicro(int64_t micro);
// pico-USD as USD decimal text with 12 digits.
std::string FormatPicoUsd(int64_t pico);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_EVALUATE_DETECTORS_H_
