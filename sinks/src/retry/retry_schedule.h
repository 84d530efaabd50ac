// The one retry policy of the sinks: exponential backoff with jitter, a Retry-After from
// the receiver honoured when longer, and a horizon after which a delivery is dead.
// Pure function; any thread.
#ifndef TOKENMETER_SINKS_RETRY_RETRY_SCHEDULE_H_
#define TOKENMETER_SINKS_RETRY_RETRY_SCHEDULE_H_

#include <chrono>
#include <cstdint>
#include <optional>

#include "tokenmeter/sinks/sink_config.h"

namespace tokenmeter {

// When to try again after failed attempt number `attempts` (1 = the first), or nullopt
// when the horizon is reached (dead). `unit` in [0, 1) picks the jitter.
std::optional<int64_t> NextAttemptMs(const RetryPolicy& p, uint32_t attempts, int64_t now_ms,
                                     int64_t first_attempt_ms, std::optional<int64_t> retry_after_ms,
                                     double unit);

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_RETRY_RETRY_SCHEDULE_H_
