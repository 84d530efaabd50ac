// RetentionConfig: how long the processor keeps each request id's dedup record, each
// event's row and the rollup rows of each granularity (config key `retention`; DESIGN.md
// "Processor state", "Data lifecycle").
#ifndef TOKENMETER_PROCESSOR_RETENTION_CONFIG_H_
#define TOKENMETER_PROCESSOR_RETENTION_CONFIG_H_

#include <chrono>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

struct RetentionConfig {
  // The dedup window, days: a copy received more than this long after its request id
  // was first seen is counted as a new call. Default 35.
  int dedup_days = 35;
  // An event's row (GET /v1/events/{requestId}) is kept this long after its occurredAt,
  // days. Default 30.
  int events_days = 30;
  // A rollup row is kept this long after its bucket ends, days, per granularity: minute
  // rows (ranges of up to 6 hours, the drift detectors), hour rows (up to 7 days), day
  // rows (longer ranges). Defaults 14, 400, 3650.
  int minute_rollup_days = 14;
  int hour_rollup_days = 400;
  int day_rollup_days = 3650;
  // serve's embedded log: a segment is dropped once every record in it is applied and
  // its last write is this many days old (fractions allowed; Kafka topics keep what their
  // own retention says). Default 7.
  double log_days = 7;
  // serve's dead-letter log: segments dropped this many days after their last write.
  // Default 30.
  double dlq_days = 30;
  std::chrono::milliseconds log_window() const { return DaysMs(log_days); }
  std::chrono::milliseconds dlq_window() const { return DaysMs(dlq_days); }
  static std::chrono::milliseconds DaysMs(double days) {
    return std::chrono::milliseconds(static_cast<int64_t>(days * 86'400'000.0));
  }

  // Each in [1, 3650]; minute <= hour <= day rollups.
  Status Validate() const;
  std::chrono::milliseconds dedup_window() const { return std::chrono::days(dedup_days); }
  std::chrono::milliseconds events_window() const { return std::chrono::days(events_days); }
  // How long rows of granularity 'm', 'h' or 'd' are kept after their bucket ends.
  std::chrono::milliseconds rollup_window(char granularity) const {
    return std::chrono::days(granularity == 'm' ? minute_rollup_days
                             : granularity == 'h' ? hour_rollup_days
                                                  : day_rollup_days);
  }
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_RETENTION_CONFIG_H_
