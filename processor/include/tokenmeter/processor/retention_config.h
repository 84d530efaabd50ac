// RetentionConfig: how long the processor keeps each request id's dedup record and each
// event's row (config key `retention`; DESIGN.md "Processor state"). Rollups, and so
// the dashboards' totals, are kept whatever these say.
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

  Status Validate() const;  // each in [1, 3650]
  std::chrono::milliseconds dedup_window() const { return std::chrono::days(dedup_days); }
  std::chrono::milliseconds events_window() const { return std::chrono::days(events_days); }
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_RETENTION_CONFIG_H_
