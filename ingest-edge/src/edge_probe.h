// EdgeProbe: every metric the edge exports (tokenmeter_edge_*). Call sites say what
// happened; label values come from the enums below, never from request data. All label
// combinations are created up front, so recording is a pointer dereference. Any thread.
#ifndef TOKENMETER_EDGE_EDGE_PROBE_H_
#define TOKENMETER_EDGE_EDGE_PROBE_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <string_view>

#include "tokenmeter/auth/api_key.h"

namespace tokenmeter {

enum class Route : uint8_t { kIngest, kHealth, kReady, kMetrics, kOther, kCount };

enum class Reject : uint8_t {
  kInvalidEvent,      // failed validation (one event; its neighbours may pass)
  kMalformedBody,     // the whole body was unusable
  kTooManyEvents,
  kUnauthorized,
  kForbidden,
  kUnsupportedMedia,
  kRateLimited,
  kBusUnavailable,    // the bus could not make them durable: 503
  kPlanLimit,         // the workspace's plan limit is reached: 402
  kDiskFull,          // the disk under the bus is full: 503
  kCount
};
std::string_view RejectName(Reject r);  // the `reason` label

class EdgeProbe {
 public:
  explicit EdgeProbe(prometheus::Registry& registry);

  void Request(Route route, int status, std::chrono::steady_clock::duration took);
  void EventsAccepted(size_t n) { accepted_->Increment(static_cast<double>(n)); }
  void EventsRejected(Reject reason, size_t n);
  // Applied mode: events the processor had not applied by the end of the wait.
  void EventsAnsweredPending(size_t n) { answered_pending_->Increment(static_cast<double>(n)); }
  void AuthFailed(KeyRejection why);
  void Delivery(std::chrono::steady_clock::duration took, bool ok);
  void Sample(int http_in_flight, int connections, size_t bus_in_flight, bool bus_ready);

 private:
  std::array<std::array<prometheus::Counter*, 3>, static_cast<size_t>(Route::kCount)> requests_{};
  std::array<prometheus::Histogram*, static_cast<size_t>(Route::kCount)> request_seconds_{};
  prometheus::Counter* accepted_;
  prometheus::Counter* answered_pending_;
  static constexpr size_t kRejects = static_cast<size_t>(Reject::kCount);
  std::array<prometheus::Counter*, kRejects> rejected_{};
  static constexpr size_t kKeyRejections = static_cast<size_t>(KeyRejection::kRevoked) + 1;
  std::array<prometheus::Counter*, kKeyRejections> auth_failures_{};
  prometheus::Histogram* delivery_ok_;
  prometheus::Histogram* delivery_failed_;
  prometheus::Gauge* http_in_flight_;
  prometheus::Gauge* connections_;
  prometheus::Gauge* bus_in_flight_;
  prometheus::Gauge* bus_ready_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_EDGE_PROBE_H_
