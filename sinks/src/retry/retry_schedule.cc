#include "retry_schedule.h"

#include <algorithm>

namespace tokenmeter {

std::optional<int64_t> NextAttemptMs(const RetryPolicy& p, uint32_t attempts, int64_t now_ms,
                                     int64_t first_attempt_ms, std::optional<int64_t> retry_after_ms,
                                     double unit) {
  int64_t full = p.initial_backoff_ms;
  for (uint32_t i = 1; i < attempts && full < p.max_backoff_ms; ++i) full *= 2;
  full = std::min<int64_t>(full, p.max_backoff_ms);
  // "Equal jitter": never less than half the backoff, so retries still spread out.
  int64_t wait = full / 2 + static_cast<int64_t>(static_cast<double>(full - full / 2) * unit);
  if (retry_after_ms) wait = std::max(wait, *retry_after_ms);
  int64_t next = now_ms + wait;
  if (next - first_attempt_ms > static_cast<int64_t>(p.horizon_s) * 1000) return std::nullopt;
  return next;
}

}  // namespace tokenmeter
